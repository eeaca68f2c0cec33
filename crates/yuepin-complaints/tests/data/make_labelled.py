"""Builds labelled.csv: complaint texts with gold category key and division, for the classifier
accuracy test. Product phrases are written independently of the lexicon (brand + product nouns
as consumers write them; some deliberately use words the lexicon lacks), combined with
complaint templates that differ from the synthetic generator's. Deterministic (seed 2026)."""
import csv, random

PRODUCTS = {
 "refrigerator": ["海尔双开门冰箱", "美的冰箱冷冻室", "容声冰柜"],
 "air_conditioner": ["格力变频空调", "美的挂式空调", "奥克斯空调柜机"],
 "washing_machine": ["小天鹅滚筒洗衣机", "海尔波轮洗衣机", "洗烘一体机"],
 "water_heater": ["万和燃气热水器", "A.O.史密斯电热水器", "热水器"],
 "kitchen_appliance": ["九阳豆浆机", "苏泊尔电饭煲", "空气炸锅"],
 "range_hood": ["老板抽油烟机", "方太燃气灶", "华帝吸油烟机"],
 "small_appliance": ["戴森吹风机", "科沃斯扫地机器人", "小熊加湿器"],
 "lighting": ["欧普吸顶灯", "LED护眼台灯", "客厅灯具"],
 "wire_cable": ["公牛插线板", "家装电线", "空气开关断路器"],
 "mobile_phone": ["华为手机", "OPPO智能手机", "刚买的手机"],
 "computer": ["联想笔记本电脑", "华硕平板电脑", "台式电脑显示器"],
 "television": ["TCL液晶电视", "创维智能电视", "海信电视机"],
 "audio_wearable": ["蓝牙耳机", "小米手环", "智能手表"],
 "charger_power": ["充电宝", "快充充电器", "移动电源"],
 "router_camera": ["家用路由器", "智能门锁", "监控摄像头"],
 "e_bike": ["雅迪电动车", "新日电动自行车", "电瓶车"],
 "bicycle": ["捷安特山地车", "儿童自行车", "公路车"],
 "car": ["比亚迪新能源汽车", "广汽轿车", "新车"],
 "auto_parts": ["轮胎", "行车记录仪", "汽车蓄电池"],
 "motorcycle": ["本田踏板车", "摩托车", "豪爵摩托车"],
 "toy": ["乐高积木", "毛绒玩具", "儿童遥控车玩具"],
 "stationery": ["晨光中性笔", "学生书包", "修正带"],
 "sporting_goods": ["家用跑步机", "健身器材", "羽毛球拍"],
 "cosmetics": ["面膜", "某品牌口红", "美白面霜"],
 "detergent": ["洗衣液", "洗发水", "消毒液"],
 "paint_coating": ["立邦乳胶漆", "墙面涂料", "防水涂料"],
 "medicine": ["感冒药", "保健品胶囊", "中成药"],
 "medical_device": ["电子血压计", "额温枪", "家用制氧机"],
 "food_processed": ["月饼礼盒", "进口饼干", "方便面"],
 "meat_grain": ["散装大米", "冷冻猪肉", "食用盐"],
 "dairy": ["婴幼儿配方奶粉", "盒装牛奶", "酸奶"],
 "beverage": ["瓶装饮料", "白酒", "凉茶"],
 "tobacco": ["电子烟", "香烟", "电子烟烟弹"],
 "clothing": ["羽绒服", "连衣裙", "童装外套"],
 "textile_home": ["四件套床上用品", "蚕丝被", "纯棉毛巾"],
 "footwear": ["运动鞋", "真皮皮鞋", "儿童凉鞋"],
 "bags_leather": ["行李箱", "真皮手提包", "双肩背包"],
 "furniture": ["布艺沙发", "乳胶床垫", "实木衣柜"],
 "wood_flooring": ["复合木地板", "实木门", "强化地板"],
 "paper_products": ["纸尿裤", "卫生巾", "抽纸纸巾"],
 "printing": ["产品说明书印刷", "包装印刷品", "宣传册印刷"],
 "plastic_products": ["塑料收纳箱", "PVC水管", "保鲜膜"],
 "glass_ceramics": ["马桶", "瓷砖", "钢化玻璃淋浴房"],
 "metal_products": ["不锈钢炒锅", "保温杯", "水龙头"],
 "jewelry": ["黄金手镯", "钻石戒指", "银饰项链"],
 "glasses": ["近视眼镜", "太阳镜", "隐形眼镜"],
 "watches_clocks": ["机械表", "石英手表", "挂钟"],
 "gas_appliance_parts": ["燃气报警器", "燃气减压阀", "燃气管"],
 "firework": ["烟花", "鞭炮", "春节烟花爆竹"],
 "fertilizer_pesticide": ["复合肥", "农药", "除草剂"],
}
DIVISION = {}
for row in csv.DictReader(open("../../data/categories.csv", encoding="utf-8")):
    DIVISION[row["key"]] = row["division"]
TEMPLATES = [
 "我在网上买的{p}{q}，商家不给处理。",
 "{p}收到后{q}，请求12315帮忙维权。",
 "反映某店销售的{p}{q}，涉嫌违法。",
 "上个月购买{p}，现在{q}，客服态度恶劣。",
 "投诉：{p}{q}，要求三倍赔偿。",
 "举报某厂家生产的{p}{q}。",
 "家里新买的{p}{q}，已经影响正常使用。",
]
PROBLEMS = ["出现质量问题", "与宣传不符", "存在安全隐患", "明显是假货", "没有中文标识", "坏了没人修", "价格欺诈", "有异味"]
rnd = random.Random(2026)
rows = []
for key, phrases in PRODUCTS.items():
    for p in phrases:
        for _ in range(2):
            t = rnd.choice(TEMPLATES).format(p=p, q=rnd.choice(PROBLEMS))
            rows.append((t, key, DIVISION[key]))
rnd.shuffle(rows)
with open("labelled.csv", "w", encoding="utf-8", newline="") as f:
    w = csv.writer(f)
    w.writerow(["text", "category", "division"])
    w.writerows(rows)
print(len(rows))
