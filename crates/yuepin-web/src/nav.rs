//! What each role is offered: the site navigation and the workbench (`/me`) tasks. Only pages
//! the role may open are listed, so no navigation link leads to a 403 (issue #16 item 7); the
//! test `navigation_links_open_for_every_role` walks them all.

use yuepin_domain::Role;

/// One link of the site navigation.
#[derive(Debug, Clone, Copy)]
pub struct NavLink {
    pub href: &'static str,
    pub zh: &'static str,
    pub en: &'static str,
}

const fn link(href: &'static str, zh: &'static str, en: &'static str) -> NavLink {
    NavLink { href, zh, en }
}

const HOME: NavLink = link("/me", "工作台", "Workbench");
const POLICY: NavLink = link("/", "政策", "Policy");
const MATCHING: NavLink = link("/policy", "政策匹配", "Matching");
const LABS: NavLink = link("/labs", "检测共享", "Testing");
const WARNINGS: NavLink = link("/warnings", "消费提示", "Warnings");

/// The navigation for a signed-in role, or for a visitor (`None`).
pub fn links(role: Option<Role>) -> Vec<NavLink> {
    match role {
        None => vec![POLICY, MATCHING, LABS, WARNINGS],
        Some(Role::Regulator) => vec![
            HOME,
            link("/enterprises", "企业", "Enterprises"),
            MATCHING,
            link("/codes", "粤品通码", "Codes"),
            link("/complaints", "12315分析", "12315"),
            LABS,
            WARNINGS,
            link("/hospital", "产品医院", "Product hospital"),
            POLICY,
        ],
        Some(Role::Enterprise) => vec![
            HOME,
            link("/enterprises", "本企业", "My enterprise"),
            MATCHING,
            link("/codes", "粤品通码", "Codes"),
            link("/labs/my", "我的预约", "My bookings"),
            link("/credit/consents", "数据授权", "Data consents"),
            link("/hospital", "产品医院", "Product hospital"),
            LABS,
            POLICY,
        ],
        Some(Role::Lab) => vec![HOME, link("/labs/lab", "本机构", "My lab"), LABS, POLICY],
        Some(Role::Bank) => vec![
            HOME,
            link("/credit/consents", "企业授权", "Consents"),
            POLICY,
            MATCHING,
            LABS,
            WARNINGS,
        ],
        Some(Role::Expert) => vec![
            HOME,
            link("/hospital", "我的问诊", "My cases"),
            link("/hospital/knowledge", "知识库", "Knowledge base"),
            POLICY,
            MATCHING,
            LABS,
            WARNINGS,
        ],
    }
}

/// A task on the workbench: what it is for and where it is done.
#[derive(Debug, Clone, Copy)]
pub struct Task {
    pub href: &'static str,
    pub title_zh: &'static str,
    pub title_en: &'static str,
    pub detail_zh: &'static str,
    pub detail_en: &'static str,
}

const fn task(
    href: &'static str,
    title_zh: &'static str,
    title_en: &'static str,
    detail_zh: &'static str,
    detail_en: &'static str,
) -> Task {
    Task {
        href,
        title_zh,
        title_en,
        detail_zh,
        detail_en,
    }
}

/// The workbench of a role: its tasks, and (for roles whose module is still to come) a
/// plain statement of what is not open yet.
pub fn tasks(role: Role) -> (Vec<Task>, Option<(&'static str, &'static str)>) {
    let policy = task(
        "/",
        "政策措施与有效期",
        "The measures and their validity",
        "29条措施、责任单位和每条措施的当前状态（粤市监〔2023〕74号已于2026年10月11日失效）。",
        "The 29 measures, their responsible units and each one's status (粤市监〔2023〕74号 lapsed on 11 October 2026).",
    );
    let labs = task(
        "/labs",
        "检测共享资源",
        "Shared testing resources",
        "查找仪器和检测项目、比较价格与可约时段。",
        "Find instruments and test items, compare prices and open slots.",
    );
    match role {
        Role::Regulator => (
            vec![
                task("/enterprises", "企业名录与质量信用档案", "Directory and quality credit files", "按名称、信用代码、地市和认定检索企业，查看质量事件。", "Search enterprises by name, credit code, city and designation; see their quality events."),
                task("/enterprises/identity-changes", "名称与地区变更审核", "Name and region changes", "企业申请变更的名称和所在地区经审核后才显示在扫码页上。", "An enterprise's new name or region reaches the scan page only after review."),
                task("/policy", "政策匹配与申请审核", "Policy matching and applications", "免申即享匹配、企业申请的审核与资金上限。", "Proactive matching, review of applications and the caps on funds."),
                task("/policy/declared", "核实企业申报的事实", "Confirm declared facts", "企业自行申报的标准待核实后才能用于资金类规则。", "Standards enterprises declared count for money rules only once confirmed."),
                task("/codes", "粤品通码", "Yuepin codes", "审核赋码申请，撤销、暂停、召回，查看假冒信号。", "Review code applications; revoke, suspend, recall; counterfeit signals."),
                task("/complaints", "12315投诉分析", "12315 complaint analytics", "投诉导入、激增预警和消费提示的发布。", "Complaint imports, surge alarms and consumer warnings."),
                labs,
                policy,
            ],
            None,
        ),
        Role::Enterprise => (
            vec![
                task("/enterprises", "本企业质量信用档案", "My quality credit file", "本企业的认定、产品、检验、认证与投诉记录。", "Designations, products, inspections, certifications and complaints of my enterprise."),
                task("/policy", "可享政策与申请", "Policies I can receive", "平台按本企业的已确认事实判断可享措施，并说明理由。", "The platform judges which measures apply from confirmed facts, with reasons."),
                task("/codes", "申请粤品通码", "Apply for Yuepin codes", "为产品申请质量信用码，获批后签发并下载标签。", "Apply for product quality credit codes; after approval, issue and download labels."),
                task("/labs/my", "我的检测预约", "My test bookings", "预约记录、发票与节省的费用。", "Bookings, invoices and savings."),
                task("/enterprises/identity-changes", "变更名称或地区", "Change the name or region", "提交营业执照变更后的新名称或地区，监管部门审核后生效。", "Submit a new name or region after a licence change; it applies once a regulator approves it."),
                task("/credit/consents", "数据授权", "Data consents", "向银行授权调用本企业的质量信用报告，随时暂停、恢复或撤回。", "Consents for banks to fetch my quality credit report; pause, resume or revoke at any time."),
                labs,
                policy,
            ],
            None,
        ),
        Role::Lab => (
            vec![
                task("/labs/lab", "本机构", "My lab", "仪器与检测项目的发布、预约处理和检测报告。", "Publish instruments and test items, handle bookings, issue reports."),
                labs,
                policy,
            ],
            None,
        ),
        Role::Bank => (
            vec![
                task("/credit/consents", "企业授权", "Consents from enterprises", "企业授予本行的数据授权及其用途、次数和状态；在授权范围内调用质量信用报告。", "Consents enterprises gave our bank, with purpose, uses and status; fetch quality credit reports within them."),
                policy,
                labs,
            ],
            Some((
                "质量贷与知识产权质押融资产品功能尚未开通；开通后将在此列出待办。",
                "Quality-based and IP-pledge loan products are not open yet; they will be listed here.",
            )),
        ),
        Role::Expert => (
            vec![
                task("/hospital", "我的问诊队列", "My case queue", "分派给我、我参加会诊或我协调的产品医院问诊，含各项时限状态。", "Cases assigned to me, on my panels or in hospitals I coordinate, with each SLA target's state."),
                task("/hospital/knowledge", "产品医院知识库", "Knowledge base", "已解决并脱敏审核的案例，按关键词和行业检索。", "Solved, anonymised and approved cases, searchable by keyword and division."),
                policy,
                labs,
            ],
            None,
        ),
    }
}
