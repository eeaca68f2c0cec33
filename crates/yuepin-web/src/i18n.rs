//! zh-CN by default, English on request: `?lang=en` (or `zh`) sets a cookie that later pages read.

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
pub enum Lang {
    #[default]
    Zh,
    En,
}

impl Lang {
    pub fn parse(s: &str) -> Option<Lang> {
        match s {
            "zh" | "zh-CN" | "zh-cn" => Some(Lang::Zh),
            "en" | "en-US" | "en-GB" => Some(Lang::En),
            _ => None,
        }
    }
    pub fn code(self) -> &'static str {
        match self {
            Lang::Zh => "zh-CN",
            Lang::En => "en",
        }
    }
}

/// Passed to every template: `{{ tr.t("企业", "Enterprises") }}`.
#[derive(Debug, Clone, Copy)]
pub struct Tr {
    pub lang: Lang,
}

impl Tr {
    pub fn t<'a>(&self, zh: &'a str, en: &'a str) -> &'a str {
        match self.lang {
            Lang::Zh => zh,
            Lang::En => en,
        }
    }
    pub fn is_en(&self) -> bool {
        self.lang == Lang::En
    }
    pub fn html_lang(&self) -> &'static str {
        self.lang.code()
    }
    /// The link that switches to the other language, keeping the current path.
    pub fn other(&self) -> &'static str {
        match self.lang {
            Lang::Zh => "en",
            Lang::En => "zh",
        }
    }
}

impl Tr {
    /// One language of a message written "中文 (English)", as the services' and the web
    /// layer's error messages are: the part in the page's language. A message without a
    /// trailing parenthesised English part is returned whole.
    pub fn pick(&self, message: &str) -> String {
        match split_bilingual(message) {
            Some((zh, en)) => self.t(zh, en).to_string(),
            None => message.to_string(),
        }
    }
}

/// `"须为整数 (a whole number)"` → `("须为整数", "a whole number")`: the last balanced
/// parenthesised group at the end, when the text before it holds Chinese and the group none.
fn split_bilingual(message: &str) -> Option<(&str, &str)> {
    let body = message.trim_end().strip_suffix(')')?;
    let mut depth = 0usize;
    let open = body.char_indices().rev().find_map(|(i, c)| match c {
        ')' => {
            depth += 1;
            None
        }
        '(' if depth == 0 => Some(i),
        '(' => {
            depth -= 1;
            None
        }
        _ => None,
    })?;
    let (zh, en) = (body[..open].trim_end(), &body[open + 1..]);
    let cjk = |s: &str| s.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c));
    (cjk(zh) && !cjk(en) && !en.trim().is_empty()).then_some((zh, en))
}

#[cfg(test)]
mod tests {
    use super::*;

    const ZH: Tr = Tr { lang: Lang::Zh };
    const EN: Tr = Tr { lang: Lang::En };

    #[test]
    fn a_bilingual_message_shows_in_the_pages_language() {
        assert_eq!(ZH.pick("须为整数 (a whole number)"), "须为整数");
        assert_eq!(EN.pick("须为整数 (a whole number)"), "a whole number");
        assert_eq!(
            EN.pick("金额须为正数（元） (the amount (yuan) must be positive)"),
            "the amount (yuan) must be positive"
        );
        assert_eq!(
            ZH.pick("金额须为正数（元） (the amount (yuan) must be positive)"),
            "金额须为正数（元）"
        );
    }

    #[test]
    fn other_messages_are_left_whole() {
        for m in ["plain English", "只有中文", "见 (第3条)", "", "(x)", "a (b"] {
            assert_eq!(ZH.pick(m), m);
            assert_eq!(EN.pick(m), m);
        }
    }
}
