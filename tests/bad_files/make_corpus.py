"""Writes the small malformed files of this folder (run: python tests/bad_files/make_corpus.py).

The big ones (a 5 MB line, a 200,000-token sentence, a text over the generation cap, a file over the size cap)
are made at run time by tests/core/test_bad_input.py into tmp_path, never committed. What each file must give is
listed in tests/helpers.py (BAD_CORPUS).
"""
import io
import struct
import zipfile
import zlib
from pathlib import Path

HERE = Path(__file__).resolve().parent

CONLLU_OK = ("# text = The cat sat\n"
             "1\tThe\tthe\tDET\tDT\t_\t2\tdet\t_\t_\n"
             "2\tcat\tcat\tNOUN\tNN\t_\t3\tnsubj\t_\t_\n"
             "3\tsat\tsit\tVERB\tVBD\t_\t0\troot\t_\t_\n\n"
             "1\tDogs\tdog\tNOUN\tNNS\t_\t2\tnsubj\t_\t_\n"
             "2\tbark\tbark\tVERB\tVBP\t_\t0\troot\t_\t_\n\n")
REVIEWS = "".join(f"film {i} was good\tpos\nfilm {i} was bad\tneg\n" for i in range(6))


def png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    raw = b"\x00\xff\x00\x00"                                    # one red pixel
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def xlsx() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(zipfile.ZipInfo("[Content_Types].xml", (2020, 1, 1, 0, 0, 0)), '<?xml version="1.0"?><Types/>')
        z.writestr(zipfile.ZipInfo("xl/worksheets/sheet1.xml", (2020, 1, 1, 0, 0, 0)), "<worksheet><sheetData><row><c t='inlineStr'><is><t>good film"
                   "</t></is></c><c t='inlineStr'><is><t>pos</t></is></c></row></sheetData></worksheet>")
    return buf.getvalue()


FILES: dict[str, bytes | str] = {
    # classification
    "empty.tsv": b"",
    "header_only.tsv": "text\tlabel\n",
    "header_only_crlf.csv": "sentence,label\r\n",
    "no_label_column.tsv": "a good film\na bad film\nfine acting\n",
    "one_class.tsv": "good film\tpos\ngreat film\tpos\nnice film\tpos\n",
    "latin1.tsv": "le film\tpos\nun caf\u00e9 froid\tneg\n".encode("latin-1"),
    "utf16_bom.tsv": REVIEWS.encode("utf-16"),
    "utf16le_no_bom.tsv": REVIEWS.encode("utf-16-le"),
    "utf16be_no_bom.tsv": REVIEWS.encode("utf-16-be"),
    "utf32_bom.tsv": REVIEWS.encode("utf-32"),
    "binary.tsv": bytes(range(256)) * 2,
    "image.tsv": png(),
    "whitespace_only.tsv": " \n\t\n   \r\n\n",
    "crlf.tsv": REVIEWS.replace("\n", "\r\n"),
    "bom.tsv": "\ufeff" + REVIEWS,
    "bom_header_crlf.csv": ("\ufefftext,label\r\n" + REVIEWS.replace("\t", ",")).replace("\n", "\r\n"),
    "bare_cr.tsv": REVIEWS.replace("\n", "\r"),
    "nul_bytes.tsv": "good film\tpos\nbad fi\x00lm\tneg\n",
    "mixed_tabs_spaces.tsv": "good film\tpos\nbad film    neg\nfine\tpos\n",
    "label_only_line.tsv": "good film\tpos\n\tneg\nbad\tneg\n",
    "label_only_no_tab.tsv": "good film\tpos\nneg\nbad\tneg\n",
    "text_only_trailing_tab.tsv": "good film\tpos\nbad film\t\n",
    "duplicated_header.tsv": "text\tlabel\n" + REVIEWS[:78] + "text\tlabel\n" + REVIEWS[78:],
    "header_unknown.tsv": "review body\tscore\n" + REVIEWS,
    "quoted_header.csv": '"text","label"\n' + REVIEWS.replace("\t", ","),
    "label_first.tsv": "".join(f"{'pn'[i % 2]}\tfilm number {i}\n" for i in range(12)),
    "spreadsheet.xlsx": xlsx(),
    "records.json": '[{"text": "good film", "label": "pos"}, {"text": "bad film", "label": "neg"}]\n',
    "sentences.conllu": CONLLU_OK,
    "conllu_renamed.tsv": CONLLU_OK,
    "web_page.tsv": "<!DOCTYPE html>\n<html><body>good film</body></html>\n",
    "invalid_utf8_mid.tsv": b"good film\tpos\nbad \xed\xa0\x80 film\tneg\n",
    "quoted.csv": '"good, really good",pos\n"bad, really bad",neg\n"fine, fine",pos\n"awful, awful",neg\n',
    "unicode.tsv": "\u05e1\u05e8\u05d8 \u05d8\u05d5\u05d1\tpos\n\u0444\u0438\u043b\u044c\u043c \u043f\u043b\u043e\u0445\u043e\u0439\tneg\n"
                   "\U0001f600 great\tpos\n\U0001f621 awful\tneg\n",
    # labelling
    "conllu_short_row.conllu": CONLLU_OK.replace("2\tcat\tcat\tNOUN\tNN\t_\t3\tnsubj\t_\t_", "2\tcat\tcat\tNOUN"),
    "conllu_bad_id.conllu": CONLLU_OK.replace("2\tcat", "two\tcat"),
    "conllu_id_gap.conllu": CONLLU_OK.replace("3\tsat", "4\tsat"),
    "conllu_missing_tag.conllu": CONLLU_OK.replace("NOUN\tNN", "_\tNN", 1),
    "conllu_empty_form.conllu": CONLLU_OK.replace("\tcat\t", "\t\t", 1),
    "conllu_spaces.conllu": CONLLU_OK.replace("\t", " "),
    "conllu_comments_only.conllu": "# sent_id = 1\n# text = nothing here\n\n",
    "conllu_one_tag.conllu": "1\ta\ta\tX\t_\t_\t0\troot\t_\t_\n\n1\tb\tb\tX\t_\t_\t0\troot\t_\t_\n",
    "conllu_utf16.conllu": CONLLU_OK.encode("utf-16"),
    "conllu_crlf_bom.conllu": "\ufeff" + CONLLU_OK.replace("\n", "\r\n"),
    "two_column_missing_tag.txt": "The\tDET\ncat\tNOUN\nsat\n\nDogs\tNOUN\nbark\tVERB\n",
    "two_column_empty_tag.txt": "The\tDET\ncat\t\n\nDogs\tNOUN\nbark\tVERB\n",
    "two_column_spaces.txt": "The DET\ncat NOUN\n",
    "two_column_ok.tsv": "The\tDET\ncat\tNOUN\n\nDogs\tNOUN\nbark\tVERB\n\nA\tDET\ndog\tNOUN\n",
    # generation
    "one_char.txt": "a",
    "two_chars.txt": "ab",
    "empty.txt": b"",
    "whitespace.txt": "   \n\n\t \n",
    "image.txt": png(),
    "binary.txt": b"\x00\x01\x02text\x00\xff",
    "latin1.txt": "Caf\u00e9 au lait, cr\u00e8me br\u00fbl\u00e9e.\n".encode("latin-1") * 20,
}


def main() -> None:
    for name, content in FILES.items():
        (HERE / name).write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    print(f"wrote {len(FILES)} files to {HERE}")


if __name__ == "__main__":
    main()
