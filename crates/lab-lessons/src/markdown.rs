//! Lesson Markdown to HTML that is safe to show as is: the app's strict CSP
//! and its `html` templates trust it because it is built here.
//!
//! - raw HTML in the Markdown is shown as text, never passed through;
//! - a link to another lesson (`m2-07-track.md`) becomes an in-app route
//!   (`#lesson/m2-07-track`); any other link (a URL, a guide outside the
//!   course) is shown as its text and its target in `<code>`, so nothing
//!   in a lesson navigates the app's window away;
//! - images are shown as their alternative text.

use pulldown_cmark::{CowStr, Event, LinkType, Options, Parser, Tag, TagEnd};

/// Render `markdown` to HTML. `is_lesson` says whether an id names a
/// lesson of the course.
pub fn to_html(markdown: &str, is_lesson: &dyn Fn(&str) -> bool) -> String {
    let options = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH;
    let mut out_events: Vec<Event> = Vec::new();
    // For each open link: its target, when it is shown after the text.
    let mut links: Vec<Option<String>> = Vec::new();
    let mut in_image = 0usize;
    for event in Parser::new_ext(markdown, options) {
        match event {
            Event::Html(t) | Event::InlineHtml(t) => out_events.push(Event::Text(t)),
            Event::Start(Tag::Image { .. }) => in_image += 1,
            Event::End(TagEnd::Image) => in_image -= 1,
            Event::Start(Tag::Link {
                link_type,
                dest_url,
                title,
                id,
            }) => {
                let target = dest_url.to_string();
                let (path, fragment) = target.split_once('#').unwrap_or((&target, ""));
                let lesson = path
                    .strip_suffix(".md")
                    .filter(|p| !p.contains('/') && is_lesson(p));
                match lesson {
                    Some(id_) => {
                        let mut route = format!("#lesson/{id_}");
                        if !fragment.is_empty() {
                            route = format!("{route}/{fragment}");
                        }
                        links.push(None);
                        out_events.push(Event::Start(Tag::Link {
                            link_type,
                            dest_url: CowStr::from(route),
                            title,
                            id,
                        }));
                    }
                    None if matches!(link_type, LinkType::Autolink | LinkType::Email) => {
                        // `<https://…>`: the text is the target already.
                        links.push(Some(String::new()));
                    }
                    None => links.push(Some(target)),
                }
            }
            Event::End(TagEnd::Link) => match links.pop().flatten() {
                None => out_events.push(Event::End(TagEnd::Link)),
                Some(t) if t.is_empty() => {}
                Some(t) => {
                    out_events.push(Event::Text(" (".into()));
                    out_events.push(Event::Code(t.into()));
                    out_events.push(Event::Text(")".into()));
                }
            },
            e if in_image > 0 => {
                if let Event::Text(t) = e {
                    out_events.push(Event::Text(t));
                }
            }
            e => out_events.push(e),
        }
    }
    let mut html = String::with_capacity(markdown.len() * 3 / 2);
    pulldown_cmark::html::push_html(&mut html, out_events.into_iter());
    html
}

/// One line of Markdown (a hint, an objective, a quiz question) as inline
/// HTML, without the paragraph around it.
pub fn inline_html(markdown: &str, is_lesson: &dyn Fn(&str) -> bool) -> String {
    let html = to_html(markdown, is_lesson);
    let t = html.trim_end();
    match t.strip_prefix("<p>").and_then(|t| t.strip_suffix("</p>")) {
        Some(inner) if !inner.contains("<p>") => inner.to_string(),
        _ => html,
    }
}

#[cfg(test)]
mod tests {
    use super::{inline_html, to_html};

    #[test]
    fn inline_markdown_has_no_paragraph() {
        let h = inline_html("How many values of `sex` are <b>missing</b>?", &|_| false);
        assert_eq!(
            h,
            "How many values of <code>sex</code> are &lt;b&gt;missing&lt;/b&gt;?"
        );
    }

    fn render(md: &str) -> String {
        to_html(md, &|id| id == "m2-07-track")
    }

    #[test]
    fn raw_html_is_text() {
        let h = render("<script>alert(1)</script>\n\nhi <img src=x onerror=alert(1)>");
        assert!(!h.contains("<script"), "{h}");
        assert!(!h.contains("<img"), "{h}");
        assert!(h.contains("&lt;script&gt;"), "{h}");
    }

    #[test]
    fn lesson_links_route_in_the_app_and_others_do_not_navigate() {
        let h = render(
            "[next](m2-07-track.md), [guide](../03-deploy.md), [x](javascript:alert(1)), [w](https://mlflow.org)",
        );
        assert!(
            h.contains(r##"<a href="#lesson/m2-07-track">next</a>"##),
            "{h}"
        );
        assert_eq!(h.matches("<a ").count(), 1, "{h}");
        assert!(h.contains("guide (<code>../03-deploy.md</code>)"), "{h}");
        assert!(h.contains("<code>javascript:alert(1)</code>"), "{h}");
        assert!(h.contains("<code>https://mlflow.org</code>"), "{h}");
    }

    #[test]
    fn code_is_escaped_and_tables_render() {
        let h = render(
            "```sh\ncurl -d '{\"a\": 1}' <x>\n```\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n![alt <b>](x.png)",
        );
        assert!(
            h.contains(r#"<code class="language-sh">curl -d '{"a": 1}' &lt;x&gt;"#),
            "{h}"
        );
        assert!(h.contains("<table>"), "{h}");
        assert!(!h.contains("<img"), "{h}");
        assert!(h.contains("alt &lt;b&gt;"), "{h}");
    }
}
