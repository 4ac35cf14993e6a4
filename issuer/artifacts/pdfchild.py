"""The process in which :func:`issuer.artifacts.qrread.read_qr_from_upload` reads a PDF's QR
code, under hard limits set before the PDF is opened::

    python -m issuer.artifacts.pdfchild MEMORY_BYTES CPU_SECONDS < upload.pdf

PDFium has no limit of its own on the time or memory a page takes; here the kernel enforces
them (``RLIMIT_AS``, ``RLIMIT_CPU``), and the parent kills the process at its deadline. The
answer is one JSON object on stdout: ``{"text": …}`` or ``{"kind": …, "message": …}`` (an
:class:`~issuer.artifacts.qrread.UploadError`); exit code ``OUT_OF_MEMORY`` when Python ran out
of address space. No core file is written when a limit stops it.
"""

from __future__ import annotations

import json
import resource
import sys

from issuer.artifacts.qrread import OUT_OF_MEMORY, UploadError, read_pdf_pages


def main() -> int:
    memory, cpu_seconds = int(sys.argv[1]), int(sys.argv[2])
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 1))  # SIGXCPU, SIGKILL
    data = sys.stdin.buffer.read()
    try:
        answer = {"text": read_pdf_pages(data)}
    except UploadError as exc:
        answer = {"kind": exc.kind, "message": exc.message}
    except MemoryError:
        return OUT_OF_MEMORY
    sys.stdout.write(json.dumps(answer))
    return 0


if __name__ == "__main__":
    sys.exit(main())
