from types import SimpleNamespace

from lxml import html

from preview_space.pages import render
from preview_space.render import xml_rows

EVIDENCE = b"<Birth><Name>&lt;script&gt;alert(1)&lt;/script&gt;</Name><Place>R\xc4\xabga</Place></Birth>"


def page(lang: str) -> str:
    rows, _ = xml_rows(EVIDENCE)
    return render("evidence_detail.html", lang=lang, heading="Dzimšanas apliecība", csrf="tok123", prefix="/ps",
                  switch_url="/ps/evidence/1?lang=en", other_lang="en", title="<i>Birth</i>", number="1",
                  requester="<b>DE</b> portal", procedure="Studies", issuer="PMLP", issued_on="2026-01-01",
                  rows=rows, truncated=False, refused=None, is_pdf=False,
                  document=SimpleNamespace(identifier="B-1"))


def test_escaped_lang_and_csrf_on_every_form() -> None:
    for lang, accept in (("lv", "Piekrītu"), ("en", "I agree")):
        text = page(lang)
        assert "<script>" not in text and "&lt;script&gt;" in text and "<b>DE</b>" not in text
        assert "<i>Birth</i>" not in text
        doc = html.fromstring(text)
        assert doc.get("lang") == lang
        forms = doc.xpath("//form")
        assert len(forms) == 3  # accept, decline (each to its confirmation page), leave
        assert all(f.get("method") == "post" and f.xpath("input[@name='csrf']/@value") == ["tok123"] for f in forms)
        assert accept in text
        assert doc.xpath("//td[text()='Rīga']")
        assert doc.xpath("//th[@scope='col']") and doc.xpath("//a[@href='#main']")
        assert doc.xpath("//a[@id='switch-language']/@hreflang") == ["en"]
