from lxml import html

from preview_space.pages import render
from preview_space.render import xml_rows

EVIDENCE = b"<Birth><Name>&lt;script&gt;alert(1)&lt;/script&gt;</Name><Place>R\xc4\xabga</Place></Birth>"


def page(lang: str) -> str:
    rows, _ = xml_rows(EVIDENCE)
    return render("evidence_xml.html", lang=lang, heading="Dzimšanas apliecība", csrf="tok123",
                  language_action="/preview/lang", decide_action="/preview/decide", requester="<b>DE</b> portal",
                  procedure="Studies", issuer="PMLP", issued_on="2026-01-01", rows=rows)


def test_escaped_lang_and_csrf_on_every_form() -> None:
    for lang, accept in (("lv", "Piekrītu"), ("en", "I agree")):
        text = page(lang)
        assert "<script>" not in text and "&lt;script&gt;" in text and "<b>DE</b>" not in text
        doc = html.fromstring(text)
        assert doc.get("lang") == lang
        forms = doc.xpath("//form")
        assert len(forms) == 2
        assert all(f.get("method") == "post" and f.xpath("input[@name='csrf']/@value") == ["tok123"] for f in forms)
        assert accept in text
        assert doc.xpath("//td[text()='Rīga']")
        assert doc.xpath("//th[@scope='col']") and doc.xpath("//a[@href='#main']")
