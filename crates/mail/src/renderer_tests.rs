use std::path::Path;

use super::*;

fn renderer(product: &str, dir: Option<&Path>) -> Result<MailRenderer, MailError> {
    let mut config = RendererConfig::new(product);
    config.public_url = Some("https://auth.example/".into());
    config.template_dir = dir.map(Into::into);
    MailRenderer::new(config)
}

fn mail(kind: MailKind, locale: Option<&str>) -> MailMessage {
    MailMessage::new(EmailAddress::parse("ann@example.com").unwrap(), kind)
        .in_locale(locale.map(|tag| Locale::parse(tag).unwrap()))
}

fn sign_in() -> MailKind {
    MailKind::SignInCode { code: OtpCode::parse("271828", 6).unwrap(), expires_in: Duration::from_secs(600) }
}

#[test]
fn every_kind_renders_in_every_language_with_the_code_and_the_product_in_both_parts() {
    let renderer = renderer("Acme ID", None).unwrap();
    assert_eq!(renderer.languages(), ["de", "en", "es", "fr"]);
    for kind in samples() {
        let carries_code = kind.code().is_some();
        for language in renderer.languages() {
            let rendered = renderer.render(&mail(kind.clone(), Some(&language))).unwrap();
            assert_eq!(rendered.language, language);
            assert!(!rendered.subject.is_empty());
            for body in [&rendered.text, &rendered.html] {
                assert!(body.contains("Acme ID"), "{body}");
                assert_eq!(body.contains("123456"), carries_code, "{body}");
            }
            if carries_code {
                assert!(
                    rendered.text.contains("\n    123456\n"),
                    "the code stands on its own line: {}",
                    rendered.text
                );
            }
            assert!(rendered.html.starts_with("<!DOCTYPE html>"));
            assert!(rendered.html.contains(&format!("<html lang=\"{language}\">")));
            assert!(!rendered.text.contains("{{") && !rendered.html.contains("{{"));
        }
    }
}

#[test]
fn the_language_follows_the_message_then_the_default_and_regions_use_their_language() {
    let renderer = renderer("Acme", None).unwrap();
    let german = renderer.render(&mail(sign_in(), Some("de-AT"))).unwrap();
    assert_eq!(german.subject, "Ihr Anmeldecode für Acme");
    assert!(german.text.contains("10 Minuten"), "{}", german.text);
    let french = renderer.render(&mail(sign_in(), Some("fr"))).unwrap();
    assert_eq!(french.subject, "Votre code de connexion Acme");
    let unknown = renderer.render(&mail(sign_in(), Some("it"))).unwrap();
    assert_eq!((unknown.language.as_str(), unknown.subject.as_str()), ("en", "Your Acme sign-in code"));
    let mut config = RendererConfig::new("Acme");
    config.default_locale = Locale::parse("es").unwrap();
    let spanish_default = MailRenderer::new(config).unwrap();
    assert_eq!(spanish_default.render(&mail(sign_in(), None)).unwrap().language, "es");
    assert_eq!(spanish_default.render(&mail(sign_in(), Some("fr"))).unwrap().language, "fr");
}

#[test]
fn one_minute_is_singular() {
    let renderer = renderer("Acme", None).unwrap();
    let kind = MailKind::SignInCode {
        code: OtpCode::parse("271828", 6).unwrap(),
        expires_in: Duration::from_secs(45),
    };
    assert!(renderer.render(&mail(kind.clone(), None)).unwrap().text.contains("expires in 1 minute and"));
    assert!(renderer.render(&mail(kind, Some("de"))).unwrap().text.contains("in 1 Minute ab"));
}

#[test]
fn accept_language_is_narrowed_to_a_language_with_messages() {
    let renderer = renderer("Acme", None).unwrap();
    let asked = Locale::from_accept_language("it, de-CH;q=0.8, fr;q=0.5");
    assert_eq!(renderer.negotiate(&asked).unwrap().as_str(), "de");
    assert!(renderer.negotiate(&Locale::from_accept_language("it, pt")).is_none());
}

#[test]
fn missing_or_blank_translations_show_english_never_a_blank() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("messages")).unwrap();
    // An operator's German file that blanks the heading, and a new language with one key.
    std::fs::write(dir.path().join("messages/de.txt"), "sign_in_code.heading =\n").unwrap();
    std::fs::write(
        dir.path().join("messages/it.txt"),
        "sign_in_code.subject = Il tuo codice {{ product }}\n",
    )
    .unwrap();
    let renderer = renderer("Acme", Some(dir.path())).unwrap();
    let german = renderer.render(&mail(sign_in(), Some("de"))).unwrap();
    assert!(german.html.contains(">Your sign-in code</h1>"), "{}", german.html);
    assert!(german.text.contains("Geben Sie diesen Code ein"), "the other German texts stay");
    let italian = renderer.render(&mail(sign_in(), Some("it"))).unwrap();
    assert_eq!(italian.subject, "Il tuo codice Acme");
    assert!(italian.text.contains("Enter this code to sign in to Acme"), "{}", italian.text);
}

#[test]
fn code_mails_carry_a_link_with_the_code_in_the_fragment_and_others_none() {
    let renderer = renderer("Acme", None).unwrap();
    let rendered = renderer.render(&mail(sign_in(), None)).unwrap();
    let link = "https://auth.example/#email=ann%40example.com&code=271828";
    assert!(rendered.text.contains(link), "{}", rendered.text);
    // HTML-escaped (minijinja also escapes `/`), which a browser decodes back.
    let escaped = link.replace('&', "&amp;").replace('/', "&#x2f;");
    assert!(rendered.html.contains(&format!("href=\"{escaped}\"")), "{}", rendered.html);
    let reset = MailKind::PasswordResetCode {
        code: OtpCode::parse("271828", 6).unwrap(),
        expires_in: Duration::from_secs(60),
    };
    assert!(!renderer.render(&mail(reset, None)).unwrap().text.contains("https://"));
    let without_url = MailRenderer::new(RendererConfig::new("Acme")).unwrap();
    assert!(!without_url.render(&mail(sign_in(), None)).unwrap().text.contains("#email="));
}

#[test]
fn the_product_name_is_escaped_in_html_only() {
    let renderer = renderer("<b>Acme</b>", None).unwrap();
    let rendered = renderer.render(&mail(MailKind::AccountExists, None)).unwrap();
    assert!(!rendered.html.contains("<b>Acme</b>"), "{}", rendered.html);
    assert!(rendered.html.contains("&lt;b&gt;Acme"), "{}", rendered.html);
    assert!(rendered.text.contains("<b>Acme</b>"), "plain text is not escaped");
}

#[test]
fn an_override_replaces_one_file_and_the_defaults_serve_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("sign_in_code.html"),
        "{% extends \"layout.html\" %}{% block content %}<p>Custom {{ code }}</p>{% endblock %}",
    )
    .unwrap();
    let renderer = renderer("Acme", Some(dir.path())).unwrap();
    let rendered = renderer.render(&mail(sign_in(), None)).unwrap();
    assert!(rendered.html.contains("<p>Custom 271828</p>"), "{}", rendered.html);
    assert!(rendered.text.contains("Enter this code to sign in to Acme"), "{}", rendered.text);
}

#[test]
fn a_broken_override_is_refused_with_its_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sign_in_code.txt");
    std::fs::write(&path, "Hello\n\n{{ code \n").unwrap();
    let error = renderer("Acme", Some(dir.path())).unwrap_err().to_string();
    assert!(error.starts_with(&format!("mail template {} line 3: syntax error", path.display())), "{error}");

    std::fs::write(&path, "Hello\n{{ no_such_variable }}\n").unwrap();
    let error = renderer("Acme", Some(dir.path())).unwrap_err().to_string();
    assert!(
        error.starts_with(&format!("mail template {} line 2: undefined value", path.display())),
        "{error}"
    );

    std::fs::remove_file(&path).unwrap();
    std::fs::create_dir(dir.path().join("messages")).unwrap();
    let messages = dir.path().join("messages/fr.txt");
    std::fs::write(&messages, "# French\nsign_in_code.subject = {{ product }\n").unwrap();
    let error = renderer("Acme", Some(dir.path())).unwrap_err().to_string();
    assert!(error.starts_with(&format!("mail template {} line 2:", messages.display())), "{error}");
}

#[test]
fn the_plain_text_keeps_its_paragraphs_apart() {
    let renderer = renderer("Acme", None).unwrap();
    let text = renderer.render(&mail(sign_in(), None)).unwrap().text;
    let paragraphs: Vec<&str> = text.trim_end().split("\n\n").collect();
    assert_eq!(paragraphs.len(), 5, "{text}");
    assert_eq!(paragraphs[1], "    271828");
    assert!(paragraphs[3].ends_with("\nhttps://auth.example/#email=ann%40example.com&code=271828"), "{text}");
}
