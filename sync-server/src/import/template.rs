//! The template workbook head office fills in, written from the sheets' own table
//! ([`fieldproof_sheets::ImportKind::columns`]).

use fieldproof_sheets::ImportKind;

/// The template workbook: one sheet per kind with its headers and an example row, and a
/// notes sheet (说明 / Notes) describing every sheet and column, in Chinese (`zh`) or English.
/// The example rows import as they are into a system holding the demo's templates.
pub fn template_xlsx(zh: bool) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    template_of(&ImportKind::REFERENCE, zh)
}

/// The customers-and-leads template (客户、客户活动、线索), imported on its own; its example
/// activity names the example customer by phone, so the example rows import as they are into
/// a system holding the demo's reps and territories.
pub fn pipeline_template_xlsx(zh: bool) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    template_of(&ImportKind::PIPELINE, zh)
}

fn template_of(kinds: &[ImportKind], zh: bool) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    use rust_xlsxwriter::{Format, Workbook};
    let mut book = Workbook::new();
    let bold = Format::new().set_bold();
    let wrap = Format::new().set_text_wrap();
    {
        let notes = book.add_worksheet();
        notes.set_name(if zh { "说明" } else { "Notes" })?;
        let heads = if zh {
            ["工作表", "列", "必填", "说明"]
        } else {
            ["Sheet", "Column", "Required", "Meaning"]
        };
        for (c, h) in heads.iter().enumerate() {
            notes.write_string_with_format(0, c as u16, *h, &bold)?;
        }
        let intro = if zh {
            "每个工作表一类数据，工作表名称决定数据类型（中文或英文均可）；第 1 行为表头（中文或英文均可，顺序不限）。整个文件一起检查：有任何问题则全部不导入，并列出每个问题所在的工作表、行和列。不需要的工作表可以删除。"
        } else {
            "One kind of data per sheet, told by the sheet's name (English or Chinese); row 1 is the header (English or Chinese, any order). The whole file is checked together: if anything is wrong nothing is imported, and every problem is listed by sheet, row and column. Delete the sheets you do not need."
        };
        notes.write_string_with_format(1, 0, intro, &wrap)?;
        let mut row = 3u32;
        for kind in kinds.iter().copied() {
            notes.write_string_with_format(row, 0, kind.sheet_name_in(zh), &bold)?;
            notes.write_string(row, 3, kind.note(zh))?;
            row += 1;
            for c in kind.columns() {
                notes.write_string(row, 1, c.header(zh))?;
                let req = match (c.required, zh) {
                    (true, true) => "是",
                    (false, true) => "否",
                    (true, false) => "yes",
                    (false, false) => "no",
                };
                notes.write_string(row, 2, req)?;
                notes.write_string(row, 3, if zh { c.note_zh } else { c.note_en })?;
                row += 1;
            }
            row += 1;
        }
        notes.set_column_width(0, 14)?;
        notes.set_column_width(1, 22)?;
        notes.set_column_width(2, 8)?;
        notes.set_column_width(3, 90)?;
    }
    for kind in kinds.iter().copied() {
        let sheet = book.add_worksheet();
        sheet.set_name(kind.sheet_name_in(zh))?;
        for (c, column) in kind.columns().iter().enumerate() {
            let c = c as u16;
            sheet.write_string_with_format(0, c, column.header(zh), &bold)?;
            if !column.example.is_empty() {
                // Numbers as numbers, so the example reads as Excel users would type it.
                match column.example.parse::<f64>() {
                    Ok(n) if column.key != "sku" && column.key != "phone" && column.key != "customer" => {
                        sheet.write_number(1, c, n)?
                    }
                    _ => sheet.write_string(1, c, column.example)?,
                };
            }
            let width = column
                .header(zh)
                .chars()
                .count()
                .max(column.example.chars().count())
                + 4;
            sheet.set_column_width(c, width.min(40) as f64)?;
        }
    }
    book.save_to_buffer()
}
