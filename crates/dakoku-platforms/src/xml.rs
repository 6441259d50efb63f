//! The flat XML WeCom sends: `<xml><Name>value</Name>...</xml>`, values as text or CDATA.
//! Document types are refused, so no entity can be expanded.

use quick_xml::events::Event;
use quick_xml::Reader;
use std::collections::HashMap;

/// The children of the `<xml>` root by name. Nested elements are kept as their text.
pub fn fields(xml: &[u8]) -> Result<HashMap<String, String>, String> {
    let mut reader = Reader::from_reader(xml);
    reader.config_mut().trim_text(true);
    let mut fields = HashMap::new();
    let mut depth = 0usize;
    let mut current: Option<String> = None;
    let mut saw_root = false;
    loop {
        match reader.read_event().map_err(|e| format!("malformed XML: {e}"))? {
            Event::Start(e) => {
                depth += 1;
                let name = String::from_utf8_lossy(e.name().as_ref()).into_owned();
                match depth {
                    1 if name == "xml" => saw_root = true,
                    1 => return Err(format!("the root element is <{name}>, not <xml>")),
                    2 => current = Some(name),
                    _ => {}
                }
            }
            Event::Empty(e) if depth == 1 => {
                fields.insert(String::from_utf8_lossy(e.name().as_ref()).into_owned(), String::new());
            }
            Event::End(_) => {
                if depth == 2 {
                    current = None;
                }
                depth = depth.saturating_sub(1);
            }
            Event::Text(t) if depth >= 2 => {
                let text = t.unescape().map_err(|e| format!("malformed XML text: {e}"))?;
                if let Some(name) = &current {
                    fields.entry(name.clone()).or_insert_with(String::new).push_str(&text);
                }
            }
            Event::CData(c) if depth >= 2 => {
                let text = String::from_utf8(c.into_inner().into_owned()).map_err(|_| "XML text is not UTF-8")?;
                if let Some(name) = &current {
                    fields.entry(name.clone()).or_insert_with(String::new).push_str(&text);
                }
            }
            Event::DocType(_) => return Err("XML document types are not accepted".into()),
            Event::Eof => break,
            _ => {}
        }
    }
    if !saw_root || depth != 0 {
        return Err("the body is not a complete <xml> document".into());
    }
    Ok(fields)
}

#[cfg(test)]
mod tests {
    use super::fields;

    #[test]
    fn reads_text_and_cdata() {
        let xml = b"<xml><ToUserName><![CDATA[ww1]]></ToUserName>\n<CreateTime>1409659813</CreateTime><Content><![CDATA[a<b]]></Content><E/></xml>";
        let f = fields(xml).expect("parses");
        assert_eq!(f["ToUserName"], "ww1");
        assert_eq!(f["CreateTime"], "1409659813");
        assert_eq!(f["Content"], "a<b");
    }

    #[test]
    fn refuses_what_is_not_flat_wecom_xml() {
        for bad in [
            &b""[..],
            b"<root/>",
            b"<xml><a>1</a>",
            b"not xml",
            b"<!DOCTYPE x [<!ENTITY e \"x\">]><xml><a>&e;</a></xml>",
        ] {
            assert!(fields(bad).is_err(), "{}", String::from_utf8_lossy(bad));
        }
    }
}
