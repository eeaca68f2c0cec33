//! A booking's invoice as a document (issue #16 item 9): who charges (the lab), who pays (the
//! booking enterprise), the instrument and time, the lines with a total, an invoice number and
//! date, for the web page, and the same as an A4 PDF through `yuepin-pdf` (Chinese text with
//! the compiled-in font, so `pdftotext` recovers it). The PDF is a statement of charges from
//! the platform, not a tax invoice (发票), and says so.
//!
//! Access is the booking's: the booking enterprise, the lab that owns the instrument, or an
//! administrator; anyone else gets the same "not found" as for a missing booking.

use crate::error::LabsResult;
use crate::records::{BookingRecord, LabRecord};
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

/// The invoice as an A4 PDF in Chinese (pure; the service and tests call it).
pub fn invoice_pdf(doc: &BookingInvoiceDocument) -> Result<Vec<u8>, yuepin_pdf::PdfError> {
    let b = &doc.booking;
    let title = format!("粤品通 · 共享仪器使用费结算单 {}", doc.number);
    let mut pdf = Pdf::new(&title)?;
    pdf.page(PageSize::A4, |c| {
        let left = 56.0;
        let right = PageSize::A4.width - 56.0;
        let width = right - left;
        c.text(left, 72.0, 18.0, "粤品通 · 共享仪器使用费结算单");
        c.fill_rects(&[(left, 82.0, width, 1.2)]);
        let mut y = 108.0;
        let mut line = |c: &mut yuepin_pdf::Canvas<'_, '_>, label: &str, value: &str| {
            c.text(left, y, 11.0, label);
            c.text(left + 96.0, y, 11.0, &fit(value, 11.0, width - 96.0));
            y += 20.0;
        };
        line(c, "结算单号", &doc.number);
        line(c, "开具日期", &doc.issued_on.format("%Y-%m-%d").to_string());
        line(c, "预约号", &b.id.to_string());
        line(c, "收款方（实验室）", &doc.lab.lab.name);
        line(
            c,
            "实验室联系人",
            &format!(
                "{} {}",
                doc.lab.lab.contact.person, doc.lab.lab.contact.phone
            ),
        );
        let booker = match (&b.enterprise_name, &b.enterprise_uscc) {
            (Some(name), Some(uscc)) => format!("{name}（统一社会信用代码 {uscc}）"),
            (Some(name), None) => name.clone(),
            _ => "实验室内部使用".to_string(),
        };
        line(c, "付款方（预约企业）", &booker);
        line(
            c,
            "仪器",
            &format!("{}（型号 {}）", b.instrument_name, doc.instrument_model),
        );
        line(
            c,
            "使用时间",
            &format!(
                "{} 至 {}（北京时间）",
                b.starts_at.format("%Y-%m-%d %H:%M"),
                b.ends_at.format("%H:%M")
            ),
        );
        line(c, "预约状态", b.state.name_zh());
        if !b.accessories.is_empty() {
            line(c, "附件", &b.accessories.join("、"));
        }
        let mut y = y + 12.0;
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
        for l in &doc.invoice.lines {
            c.text(cols[0], y, 10.5, &fit(&l.description, 10.5, width * 0.49));
            c.text(cols[1], y, 10.5, &fit(&l.quantity, 10.5, width * 0.17));
            c.text(cols[2], y, 10.5, &yuan(l.unit_price));
            c.text(cols[3], y, 10.5, &yuan(l.amount));
            y += 20.0;
        }
        c.fill_rects(&[(left, y - 8.0, width, 0.8)]);
        y += 12.0;
        c.text(cols[2], y, 12.0, "合计");
        c.text(cols[3], y, 12.0, &format!("{} 元", yuan(doc.invoice.total)));
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
        let bytes = invoice_pdf(&doc).map_err(|e| corrupt(format!("invoice PDF: {e}")))?;
        Ok((doc, bytes))
    }
}
