//! `hcount template`: an empty submission template that makes a correct file easy to make —
//! a CSV with the Danish headers (what Danish Excel opens directly) and an .xlsx with the
//! header row, a sheet of every code with its Danish label, and drop-down lists on the code
//! columns. The CPR and date columns are formatted as text, so Excel keeps leading zeros.

use std::path::{Path, PathBuf};

use rust_xlsxwriter::{DataValidation, Format, Formula, Workbook, XlsxError};

use crate::intake::spec::{self, Code, Column};

/// Writes `hcount-skabelon.csv` and `hcount-skabelon.xlsx` into `dir`; returns their paths.
pub fn write(dir: &Path, year: i32) -> Result<Vec<PathBuf>, String> {
    if dir.exists() && !dir.is_dir() {
        return Err(format!(
            "{} is a file, not a folder: choose a folder for --out. / {} er en fil, ikke en mappe.",
            dir.display(),
            dir.display()
        ));
    }
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let csv_path = dir.join("hcount-skabelon.csv");
    let xlsx_path = dir.join("hcount-skabelon.xlsx");
    // A template that is already there may be filled in: never overwrite it.
    for path in [&csv_path, &xlsx_path] {
        if std::fs::symlink_metadata(path).is_ok() {
            return Err(format!(
                "{} already exists (it may be filled in): hcount will not overwrite it. Move or rename it, or choose another --out. / {} findes allerede: flyt eller omdøb den, eller vælg en anden --out.",
                path.display(),
                path.display()
            ));
        }
    }
    // Each file is written beside its place and renamed in, so a killed run leaves no
    // half-written template.
    let tmp = |p: &Path| {
        let name = p.file_name().unwrap_or_default().to_string_lossy();
        p.with_file_name(format!(".{name}.tmp-{}", std::process::id()))
    };
    let (csv_tmp, xlsx_tmp) = (tmp(&csv_path), tmp(&xlsx_path));
    // `;` and a UTF-8 BOM: Danish Excel opens it with the right columns and letters.
    let header: Vec<&str> = Column::ALL.iter().map(|c| c.danish()).collect();
    let example = example_row(year);
    let text = format!("\u{FEFF}{}\r\n{}\r\n", header.join(";"), example.join(";"));
    let written = std::fs::write(&csv_tmp, text)
        .map_err(|e| format!("{}: {e}", csv_path.display()))
        .and_then(|()| xlsx(&xlsx_tmp, year).map_err(|e| format!("{}: {e}", xlsx_path.display())))
        .and_then(|()| {
            std::fs::rename(&csv_tmp, &csv_path)
                .and_then(|()| std::fs::rename(&xlsx_tmp, &xlsx_path))
                .map_err(|e| format!("{}: {e}", dir.display()))
        });
    if written.is_err() {
        let _ = std::fs::remove_file(&csv_tmp);
        let _ = std::fs::remove_file(&xlsx_tmp);
    }
    written?;
    Ok(vec![csv_path, xlsx_path])
}

/// One filled-in example row, so the expected forms are visible (delete it before sending).
fn example_row(year: i32) -> Vec<String> {
    Column::ALL
        .iter()
        .map(|c| match c {
            Column::CountYear => year.to_string(),
            Column::RespondentId => "herberg-101-01".into(),
            Column::RespondentType => "shelter".into(),
            Column::Cpr => "010180-1235".into(),
            Column::Initials => "JPH".into(),
            Column::Municipality => "101".into(),
            Column::Situation => "shelter".into(),
            Column::Duration => "6to12m".into(),
            Column::MentalIllness => "nej".into(),
            Column::SubstanceAbuse => "alcohol|cannabis".into(),
            Column::Income => "cash_benefit".into(),
            Column::Children => "0".into(),
            Column::Support => "act".into(),
            Column::HousingQueue => "ja".into(),
            Column::ActionPlan => "ja".into(),
            Column::Background => "dansk".into(),
            Column::Citizenship => "dansk".into(),
            Column::PhysicalIllness => "nej".into(),
            Column::MentalIllnessTreated => "uoplyst".into(),
            Column::SubstanceTreated => "ja".into(),
            Column::Causes => "economy|eviction".into(),
            _ => String::new(),
        })
        .collect()
}

/// The code list offered for a column in the workbook, if it has one.
fn list_for(column: Column) -> Option<Vec<String>> {
    let codes = |list: &[Code]| list.iter().map(|c| c.code.to_string()).collect::<Vec<_>>();
    Some(match column {
        Column::RespondentType => codes(&spec::RESPONDENT_TYPES),
        Column::Situation => codes(&spec::SITUATIONS),
        Column::Residence => codes(&spec::RESIDENCE),
        Column::Duration => codes(&spec::DURATIONS),
        Column::Income => codes(&spec::INCOMES),
        Column::MentalIllness
        | Column::HousingQueue
        | Column::ActionPlan
        | Column::PhysicalIllness
        | Column::MentalIllnessTreated
        | Column::SubstanceTreated => vec!["ja".into(), "nej".into(), "uoplyst".into()],
        // The Danish words, as for yes/no (`eu_eea` has none); causes is a list (several
        // answers), which a drop-down cannot hold: its codes are on the Koder sheet.
        Column::Background => ["dansk", "indvandrer", "efterkommer", "uoplyst"]
            .map(String::from)
            .to_vec(),
        Column::Citizenship => ["dansk", "eu_eea", "andet", "uoplyst"]
            .map(String::from)
            .to_vec(),
        Column::Sex => vec!["m".into(), "k".into()],
        Column::Municipality | Column::HomeMunicipality => spec::municipalities()
            .iter()
            .map(|m| m.code.to_string())
            .collect(),
        _ => return None,
    })
}

fn xlsx(path: &Path, year: i32) -> Result<(), XlsxError> {
    let mut book = Workbook::new();
    let bold = Format::new().set_bold();
    let text = Format::new().set_num_format("@");

    // Sheet 1: the submission itself.
    let sheet = book.add_worksheet();
    sheet.set_name("Indberetning")?;
    for (i, c) in Column::ALL.iter().enumerate() {
        let col = i as u16;
        sheet.write_string_with_format(0, col, c.danish(), &bold)?;
        sheet.set_column_width(col, (c.danish().len() as f64 + 4.0).max(12.0))?;
        if matches!(c, Column::Cpr | Column::BirthDate | Column::Initials) {
            // Text, so that Excel keeps a CPR number's leading 0 and does not reformat dates.
            sheet.set_column_format(col, &text)?;
        }
    }
    for (i, v) in example_row(year).iter().enumerate() {
        sheet.write_string(1, i as u16, v)?;
    }
    sheet.set_freeze_panes(1, 0)?;

    // Hidden sheet: one column per code list, the source of the drop-down lists.
    let mut lists: Vec<(u16, usize)> = Vec::new(); // (column in Indberetning, length)
    for (i, c) in Column::ALL.iter().enumerate() {
        if let Some(list) = list_for(*c) {
            lists.push((i as u16, list.len()));
        }
    }
    {
        let hidden = book.add_worksheet();
        hidden.set_name(crate::intake::ingest::TEMPLATE_CODE_SHEETS[0])?;
        for (n, (col, _)) in lists.iter().enumerate() {
            let list = list_for(Column::ALL[*col as usize]).unwrap_or_default();
            for (r, v) in list.iter().enumerate() {
                hidden.write_string(r as u32, n as u16, v)?;
            }
        }
        hidden.set_hidden(true);
    }
    let sheet = book.worksheet_from_name("Indberetning")?;
    for (n, (col, len)) in lists.iter().enumerate() {
        let letter = column_letter(n as u16);
        let formula = Formula::new(format!("=Lister!${letter}$1:${letter}${len}"));
        let column = Column::ALL[*col as usize];
        let validation = DataValidation::new()
            .allow_list_formula(formula)
            .set_input_message(format!(
                "Vælg en kode for {} (se arket Koder)",
                column.danish()
            ))?
            .set_error_message(format!(
                "Ikke en gyldig kode for {}: se arket Koder",
                column.danish()
            ))?;
        sheet.add_data_validation(1, *col, 100_000, *col, &validation)?;
    }

    // Sheet: every code with its Danish and English label.
    let codes = book.add_worksheet();
    codes.set_name(crate::intake::ingest::TEMPLATE_CODE_SHEETS[1])?;
    for (i, h) in ["kolonne", "column", "kode", "betegnelse", "label"]
        .iter()
        .enumerate()
    {
        codes.write_string_with_format(0, i as u16, *h, &bold)?;
    }
    let mut r = 1u32;
    let groups: [(Column, &[Code]); 16] = [
        (Column::RespondentType, &spec::RESPONDENT_TYPES),
        (Column::Situation, &spec::SITUATIONS),
        (Column::Residence, &spec::RESIDENCE),
        (Column::Duration, &spec::DURATIONS),
        (Column::MentalIllness, &spec::YES_NO),
        (Column::SubstanceAbuse, &spec::SUBSTANCES),
        (Column::Income, &spec::INCOMES),
        (Column::Support, &spec::SUPPORTS),
        (Column::HousingQueue, &spec::YES_NO),
        (Column::ActionPlan, &spec::YES_NO),
        (Column::Background, &spec::BACKGROUNDS),
        (Column::Citizenship, &spec::CITIZENSHIPS),
        (Column::PhysicalIllness, &spec::YES_NO),
        (Column::MentalIllnessTreated, &spec::YES_NO),
        (Column::SubstanceTreated, &spec::YES_NO),
        (Column::Causes, &spec::CAUSES),
    ];
    for (column, list) in groups {
        for c in list {
            codes.write_string(r, 0, column.danish())?;
            codes.write_string(r, 1, column.name())?;
            codes.write_string(r, 2, c.code)?;
            codes.write_string(r, 3, c.label_da)?;
            codes.write_string(r, 4, c.label_en)?;
            r += 1;
        }
    }
    for m in spec::municipalities() {
        codes.write_string(r, 0, "kommune")?;
        codes.write_string(r, 1, "municipality")?;
        codes.write_string(r, 2, m.code.to_string())?;
        codes.write_string(r, 3, m.name)?;
        codes.write_string(r, 4, m.region)?;
        r += 1;
    }
    codes.set_column_width(0, 16)?;
    codes.set_column_width(1, 18)?;
    codes.set_column_width(2, 20)?;
    codes.set_column_width(3, 36)?;
    codes.set_column_width(4, 36)?;
    book.save(path)
}

fn column_letter(n: u16) -> String {
    let mut n = n as u32 + 1;
    let mut s = String::new();
    while n > 0 {
        let rem = (n - 1) % 26;
        s.insert(0, (b'A' + rem as u8) as char);
        n = (n - 1) / 26;
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn letters() {
        assert_eq!(column_letter(0), "A");
        assert_eq!(column_letter(25), "Z");
        assert_eq!(column_letter(26), "AA");
    }
}
