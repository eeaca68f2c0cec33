//! Invoices of bookings and orders as documents (issue #16 item 9): who charges (the lab), who
//! pays (the enterprise), the instrument and time or the test item and samples, the lines with
//! a total, an invoice number and date, for the web page, and the same as an A4 PDF through
//! `yuepin-pdf` (Chinese text with the compiled-in font, so `pdftotext` recovers it). The PDF is a statement of charges from
//! the platform, not a tax invoice (发票), and says so.
//!
//! Access is the booking's or order's: its enterprise, the lab, or an administrator; anyone else
//! gets the same "not found" as for a missing one.

use crate::error::LabsResult;
use crate::records::{BookingRecord, LabRecord, OrderRecord};
use crate::LabsService;
use chrono::NaiveDate;
use yuepin_domain::{Caller, Yuan};
use yuepin_labs::Invoice;
use yuepin_pdf::{fit, PageSize, Pdf};
use yuepin_store::corrupt;

/// A booking's invoice with everything its page and PDF show.
#[derive(Debug, Clone)]
pub struct BookingInvoiceDocument {
    pub booking: BookingRecord,
    pub lab: LabRecord,
    /// The instrument's model (its name is on the booking).
    pub instrument_model: String,
    pub invoice: Invoice,
    /// `YP-LB-20261201-000042`: the platform's number for this booking's invoice.
    pub number: String,
    /// The invoice date: the day the booked time ends (China time).
    pub issued_on: NaiveDate,
}

/// The invoice number of booking `id` dated `on` (stable: the same booking, the same number).
pub fn invoice_number(id: i64, on: NaiveDate) -> String {
    format!("YP-LB-{}-{id:06}", on.format("%Y%m%d"))
}

/// Money as an invoice writes it: 1,234.50 (grouped, two decimals, in 元).
fn yuan(y: Yuan) -> String {
    y.grouped()
}

/// What an invoice PDF prints: its title, number and date, the labelled lines about who and
/// what (Chinese labels), and the charges.
#[derive(Debug, Clone)]
pub struct InvoiceSheet<'a> {
    pub title: &'static str,
    pub number: &'a str,
    pub issued_on: NaiveDate,
    pub details: Vec<(&'static str, String)>,
    pub invoice: &'a Invoice,
}

impl BookingInvoiceDocument {
    /// The booking's invoice as a sheet for [`invoice_pdf`].
    pub fn sheet(&self) -> InvoiceSheet<'_> {
        let b = &self.booking;
        let booker = match (&b.enterprise_name, &b.enterprise_uscc) {
            (Some(name), Some(uscc)) => format!("{name}（统一社会信用代码 {uscc}）"),
            (Some(name), None) => name.clone(),
            _ => "实验室内部使用".to_string(),
        };
        let mut details = vec![
            ("预约号", b.id.to_string()),
            ("收款方（实验室）", self.lab.lab.name.clone()),
            (
                "实验室联系人",
                format!(
                    "{} {}",
                    self.lab.lab.contact.person, self.lab.lab.contact.phone
                ),
            ),
            ("付款方（预约企业）", booker),
            (
                "仪器",
                format!("{}（型号 {}）", b.instrument_name, self.instrument_model),
            ),
            (
                "使用时间",
                format!(
                    "{} 至 {}（北京时间）",
                    b.starts_at.format("%Y-%m-%d %H:%M"),
                    b.ends_at.format("%H:%M")
                ),
            ),
            ("预约状态", b.state.name_zh().to_string()),
        ];
        if !b.accessories.is_empty() {
            details.push(("附件", b.accessories.join("、")));
        }
        InvoiceSheet {
            title: "粤品通 · 共享仪器使用费结算单",
            number: &self.number,
            issued_on: self.issued_on,
            details,
            invoice: &self.invoice,
        }
    }
}

/// An order's invoice with everything its page and PDF show.
#[derive(Debug, Clone)]
pub struct OrderInvoiceDocument {
    pub order: OrderRecord,
    pub lab: LabRecord,
    pub invoice: Invoice,
    /// `YP-LO-20261201-000007`.
    pub number: String,
    /// The invoice date: the day the order last changed (China time).
    pub issued_on: NaiveDate,
}

impl OrderInvoiceDocument {
    /// The order's invoice as a sheet for [`invoice_pdf`].
    pub fn sheet(&self) -> InvoiceSheet<'_> {
        let o = &self.order;
        InvoiceSheet {
            title: "粤品通 · 委托检测费用结算单",
            number: &self.number,
            issued_on: self.issued_on,
            details: vec![
                ("委托号", o.id.to_string()),
                ("收款方（实验室）", self.lab.lab.name.clone()),
                (
                    "实验室联系人",
                    format!(
                        "{} {}",
                        self.lab.lab.contact.person, self.lab.lab.contact.phone
                    ),
                ),
                (
                    "付款方（委托企业）",
                    format!(
                        "{}（统一社会信用代码 {}）",
                        o.enterprise_name, o.enterprise_uscc
                    ),
                ),
                ("检测项目", o.item.clone()),
                ("样品数", o.samples.to_string()),
                ("委托状态", o.state.name_zh().to_string()),
            ],
            invoice: &self.invoice,
        }
    }
}

/// An invoice as an A4 PDF in Chinese (pure; the service and tests call it).
pub fn invoice_pdf(sheet: &InvoiceSheet<'_>) -> Result<Vec<u8>, yuepin_pdf::PdfError> {
    let mut pdf = Pdf::new(&format!("{} {}", sheet.title, sheet.number))?;
    pdf.page(PageSize::A4, |c| {
        let left = 56.0;
        let right = PageSize::A4.width - 56.0;
        let width = right - left;
        c.text(left, 72.0, 18.0, sheet.title);
        c.fill_rects(&[(left, 82.0, width, 1.2)]);
        let mut y = 108.0;
        let date = sheet.issued_on.format("%Y-%m-%d").to_string();
        let head = [("结算单号", sheet.number.to_string()), ("开具日期", date)];
        for (label, value) in head.iter().chain(sheet.details.iter()) {
            c.text(left, y, 11.0, label);
            c.text(left + 110.0, y, 11.0, &fit(value, 11.0, width - 110.0));
            y += 20.0;
        }
        y += 12.0;
        let cols = [
            left,
            left + width * 0.50,
            left + width * 0.68,
            left + width * 0.84,
        ];
        c.fill_rects(&[(left, y - 14.0, width, 0.8)]);
        for (x, h) in cols
            .iter()
            .zip(["项目", "数量", "单价（元）", "金额（元）"])
        {
            c.text(*x, y, 11.0, h);
        }
        c.fill_rects(&[(left, y + 6.0, width, 0.8)]);
        y += 24.0;
        for l in &sheet.invoice.lines {
            c.text(cols[0], y, 10.5, &fit(&l.description, 10.5, width * 0.49));
            c.text(cols[1], y, 10.5, &fit(&l.quantity, 10.5, width * 0.17));
            c.text(cols[2], y, 10.5, &yuan(l.unit_price));
            c.text(cols[3], y, 10.5, &yuan(l.amount));
            y += 20.0;
        }
        c.fill_rects(&[(left, y - 8.0, width, 0.8)]);
        y += 12.0;
        c.text(cols[2], y, 12.0, "合计");
        c.text(
            cols[3],
            y,
            12.0,
            &format!("{} 元", yuan(sheet.invoice.total)),
        );
        y += 48.0;
        c.text(
            left,
            y,
            9.0,
            "本结算单由粤品通平台按实验室公布的收费标准生成，仅供对账，不作为增值税发票。",
        );
    })?;
    pdf.finish()
}

impl LabsService {
    /// A booking's invoice with its lab, booker, instrument, number and date. Someone else's
    /// booking looks like a missing one.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn booking_invoice_document(
        &self,
        caller: &Caller,
        id: i64,
    ) -> LabsResult<BookingInvoiceDocument> {
        let invoice = self.booking_invoice(caller, id).await?.invoice;
        let booking = self.booking(caller, id).await?;
        let instrument = self.instrument(caller, booking.instrument_id).await?;
        let lab = self.lab(caller, booking.lab_id).await?;
        let issued_on = booking.ends_at.date();
        Ok(BookingInvoiceDocument {
            number: invoice_number(id, issued_on),
            issued_on,
            instrument_model: instrument.instrument.model.clone(),
            invoice,
            booking,
            lab,
        })
    }

    /// The invoice of a booking as an A4 PDF (see [`invoice_pdf`]).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn booking_invoice_pdf(
        &self,
        caller: &Caller,
        id: i64,
    ) -> LabsResult<(BookingInvoiceDocument, Vec<u8>)> {
        let doc = self.booking_invoice_document(caller, id).await?;
        let bytes = invoice_pdf(&doc.sheet()).map_err(|e| corrupt(format!("invoice PDF: {e}")))?;
        Ok((doc, bytes))
    }

    /// An order's invoice with its lab, customer, number and date. Someone else's order looks
    /// like a missing one.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn order_invoice_document(
        &self,
        caller: &Caller,
        id: i64,
    ) -> LabsResult<OrderInvoiceDocument> {
        let invoice = self.order_invoice(caller, id).await?.invoice;
        let order = self.order(caller, id).await?;
        let lab = self.lab(caller, order.lab_id).await?;
        let issued_on = chrono::DateTime::parse_from_rfc3339(&order.updated_at)
            .map(|t| yuepin_domain::to_china(t.with_timezone(&chrono::Utc)).date())
            .unwrap_or_else(|_| yuepin_domain::china_today());
        Ok(OrderInvoiceDocument {
            number: format!("YP-LO-{}-{id:06}", issued_on.format("%Y%m%d")),
            issued_on,
            invoice,
            order,
            lab,
        })
    }

    /// The invoice of an order as an A4 PDF (see [`invoice_pdf`]).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn order_invoice_pdf(
        &self,
        caller: &Caller,
        id: i64,
    ) -> LabsResult<(OrderInvoiceDocument, Vec<u8>)> {
        let doc = self.order_invoice_document(caller, id).await?;
        let bytes = invoice_pdf(&doc.sheet()).map_err(|e| corrupt(format!("invoice PDF: {e}")))?;
        Ok((doc, bytes))
    }
}
