//! The curated tables behind the synthetic data: how manufacturing is spread over Guangdong's
//! cities and industries, industry words and product categories per division, invented brand
//! roots, and the standards products are typically made to.

/// Weight of each city (GB/T 2260 code) by the size of its manufacturing sector: the Pearl River
/// Delta manufacturing belt dominates, the northern and western hill cities are small.
pub const CITY_WEIGHTS: [(&str, f64); 21] = [
    ("440300", 20.0), // 深圳
    ("441900", 16.0), // 东莞
    ("440600", 15.0), // 佛山
    ("440100", 12.0), // 广州
    ("441300", 6.0),  // 惠州
    ("442000", 6.0),  // 中山
    ("440700", 4.0),  // 江门
    ("440400", 3.0),  // 珠海
    ("440500", 3.0),  // 汕头
    ("441200", 2.0),  // 肇庆
    ("441800", 1.5),  // 清远
    ("445200", 1.5),  // 揭阳
    ("445100", 1.2),  // 潮州
    ("440800", 1.0),  // 湛江
    ("440900", 1.0),  // 茂名
    ("440200", 0.8),  // 韶关
    ("441600", 0.8),  // 河源
    ("441400", 0.7),  // 梅州
    ("441700", 0.7),  // 阳江
    ("441500", 0.4),  // 汕尾
    ("445300", 0.4),  // 云浮
];

/// One manufacturing division: weight in Guangdong's enterprise count, the word a company name
/// uses, product categories, and standards those products are made to.
#[derive(Debug)]
pub struct DivisionProfile {
    pub code: u8,
    pub weight: f64,
    pub name_words: &'static [&'static str],
    pub categories: &'static [&'static str],
    pub standards: &'static [&'static str],
    /// Whether its products typically need CCC certification.
    pub ccc: bool,
}

const fn d(
    code: u8,
    weight: f64,
    name_words: &'static [&'static str],
    categories: &'static [&'static str],
    standards: &'static [&'static str],
    ccc: bool,
) -> DivisionProfile {
    DivisionProfile {
        code,
        weight,
        name_words,
        categories,
        standards,
        ccc,
    }
}

pub const DIVISIONS: [DivisionProfile; 31] = [
    d(
        13,
        1.5,
        &["食品", "粮油"],
        &["大米", "食用植物油", "配合饲料"],
        &["GB 2715-2016", "GB 2716-2018"],
        false,
    ),
    d(
        14,
        1.5,
        &["食品", "调味品"],
        &["糕点", "酱油", "凉茶饮料"],
        &["GB 7099-2015", "GB 2717-2018"],
        false,
    ),
    d(
        15,
        1.0,
        &["饮料", "茶业"],
        &["包装饮用水", "茶叶", "果汁饮料"],
        &["GB 19298-2014", "GB/T 31751-2015"],
        false,
    ),
    d(16, 0.1, &["烟草"], &["卷烟"], &["GB 5606.1-2004"], false),
    d(
        17,
        2.0,
        &["纺织"],
        &["棉纱", "针织面料"],
        &["GB 18401-2010", "FZ/T 72001-2019"],
        false,
    ),
    d(
        18,
        3.0,
        &["服饰", "制衣"],
        &["服装", "童装", "内衣"],
        &["GB 18401-2010", "GB 31701-2015"],
        false,
    ),
    d(
        19,
        2.5,
        &["鞋业", "皮具"],
        &["运动鞋", "皮具箱包"],
        &["QB/T 4331-2012", "GB/T 15107-2013"],
        false,
    ),
    d(
        20,
        1.0,
        &["木业"],
        &["人造板", "木门"],
        &["GB/T 9846-2015", "GB 18580-2017"],
        false,
    ),
    d(
        21,
        3.0,
        &["家具", "家居"],
        &["办公椅", "实木家具", "软体沙发"],
        &["GB/T 3325-2017", "QB/T 2280-2016"],
        false,
    ),
    d(
        22,
        2.0,
        &["纸业", "包装"],
        &["瓦楞纸箱", "生活用纸"],
        &["GB/T 6543-2008", "GB/T 20808-2022"],
        false,
    ),
    d(
        23,
        1.5,
        &["印务", "彩印"],
        &["包装印刷品", "书刊印刷品"],
        &["GB/T 17497.1-2012"],
        false,
    ),
    d(
        24,
        3.0,
        &["玩具", "文体用品"],
        &["儿童玩具", "文具", "体育用品"],
        &["GB 6675.1-2014", "GB 21027-2020"],
        true,
    ),
    d(
        25,
        0.3,
        &["能源", "油品"],
        &["润滑油", "燃料油"],
        &["GB 11121-2006", "GB 17411-2015"],
        false,
    ),
    d(
        26,
        4.0,
        &["化工", "新材料"],
        &["水性涂料", "胶粘剂", "洗涤剂"],
        &["GB 18582-2020", "GB 33372-2020"],
        false,
    ),
    d(
        27,
        1.5,
        &["药业", "生物"],
        &["中成药", "医用敷料"],
        &["YY/T 0148-2006"],
        false,
    ),
    d(
        28,
        0.3,
        &["化纤"],
        &["涤纶长丝"],
        &["GB/T 8960-2015"],
        false,
    ),
    d(
        29,
        6.0,
        &["塑胶", "橡塑"],
        &["塑料制品", "橡胶密封件", "塑料管材"],
        &["GB/T 10002.1-2023", "GB 4806.7-2016"],
        false,
    ),
    d(
        30,
        4.0,
        &["陶瓷", "建材"],
        &["陶瓷砖", "卫生陶瓷", "玻璃制品"],
        &["GB/T 4100-2015", "GB/T 6952-2015"],
        false,
    ),
    d(
        31,
        0.8,
        &["钢铁"],
        &["钢筋", "冷轧板"],
        &["GB/T 1499.2-2018"],
        false,
    ),
    d(
        32,
        1.5,
        &["铝业", "铜业"],
        &["铝合金型材", "铜管"],
        &["GB/T 5237.1-2017", "GB/T 17791-2017"],
        false,
    ),
    d(
        33,
        7.0,
        &["五金", "金属制品"],
        &["五金工具", "不锈钢厨具", "门锁"],
        &["GB/T 9684-2011", "GB 21556-2008"],
        false,
    ),
    d(
        34,
        5.0,
        &["机械", "精工"],
        &["离心泵", "阀门", "工业机器人"],
        &["GB/T 3216-2016", "GB/T 12237-2021"],
        false,
    ),
    d(
        35,
        5.0,
        &["装备", "智能装备"],
        &["注塑机", "医疗器械", "包装机械"],
        &["GB/T 25156-2010", "GB 9706.1-2020"],
        false,
    ),
    d(
        36,
        3.0,
        &["汽车部件", "汽配"],
        &["汽车零部件", "汽车灯具"],
        &["GB 4785-2019", "QC/T 413-2002"],
        true,
    ),
    d(
        37,
        0.8,
        &["车业", "船舶"],
        &["电动自行车", "游艇"],
        &["GB 17761-2018"],
        true,
    ),
    d(
        38,
        10.0,
        &["电器", "电气"],
        &[
            "电饭锅",
            "电风扇",
            "空调器",
            "电线电缆",
            "LED灯具",
            "锂离子电池",
        ],
        &[
            "GB 4706.1-2005",
            "GB 4706.19-2008",
            "GB/T 5023.1-2008",
            "GB 7000.1-2015",
            "GB 31241-2022",
        ],
        true,
    ),
    d(
        39,
        14.0,
        &["电子", "科技", "智能"],
        &["移动电源", "智能手表", "显示器", "印制电路板", "充电器"],
        &["GB 4943.1-2022", "GB/T 17626.2-2018", "GB 31241-2022"],
        true,
    ),
    d(
        40,
        1.5,
        &["仪器", "仪表"],
        &["电能表", "测量仪器"],
        &["GB/T 17215.321-2021", "JJG 596-2012"],
        false,
    ),
    d(
        41,
        1.0,
        &["工艺", "饰品"],
        &["工艺品", "首饰"],
        &["GB 11887-2012", "QB/T 1690-2004"],
        false,
    ),
    d(
        42,
        0.5,
        &["再生资源", "环保"],
        &["再生塑料颗粒"],
        &["GB/T 40006.1-2021"],
        false,
    ),
    d(43, 0.3, &["设备维修"], &["设备维修服务"], &[], false),
];

/// Invented two-character brand roots are built from these halves. Curated so that no pairing
/// is a famous real brand (no 华为, 美的, 格力, 比亚迪, 腾讯, …).
pub const BRAND_FIRST: [&str; 24] = [
    "星", "岚", "澜", "晟", "禾", "璟", "泓", "骏", "钧", "熠", "昀", "翊", "锦", "沛", "峻", "霖",
    "穗", "粤", "湾", "凌", "珀", "翰", "溯", "梧",
];
pub const BRAND_SECOND: [&str; 24] = [
    "岚", "禾", "拓", "泰", "源", "川", "宸", "曜", "森", "启", "航", "辰", "誉", "盈", "卓", "迈",
    "澄", "朗", "弈", "衡", "麓", "璞", "邦", "峰",
];

/// Words put before a category to name a product (智能电饭锅, 家用电风扇).
pub const PRODUCT_ADJECTIVES: [&str; 8] = [
    "智能",
    "家用",
    "商用",
    "便携式",
    "节能",
    "高端",
    "经典",
    "新款",
];

/// Items a failed inspection lists.
pub const FAILED_ITEMS: [&str; 12] = [
    "标志和说明",
    "输入功率和电流",
    "发热",
    "耐热和耐燃",
    "甲醛释放量",
    "纤维含量",
    "pH值",
    "可迁移元素",
    "机械物理性能",
    "电磁兼容",
    "能效等级",
    "外观质量",
];

pub const INSPECTION_AGENCIES: [&str; 5] = [
    "广东省产品质量监督检验研究院",
    "广东省质量技术监督检测中心(示例)",
    "珠三角产品质量检验所(示例)",
    "粤东质量检测中心(示例)",
    "粤西质量检测中心(示例)",
];

pub const ISO_ISSUERS: [&str; 3] = [
    "中国质量认证中心",
    "粤质认证有限公司(示例)",
    "湾区认证服务有限公司(示例)",
];
