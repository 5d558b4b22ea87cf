"""Finding source files and reading the manifest (ingest/discover.py): what is read, what is passed over and why,
and metadata inferred where the manifest says nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.errors import BadInput
from ingest.discover import discover, file_hash, infer_meta, load_manifest


def _tree(root: Path) -> Path:
    (root / "sub").mkdir(parents=True)
    (root / "a.md").write_text("# A")
    (root / "sub" / "b.pdf").write_bytes(b"%PDF-1.4")
    (root / "notes.xlsx").write_bytes(b"x")
    (root / "manifest.yaml").write_text("documents: {}")
    (root / "README.md").write_text("about this folder")
    (root / ".hidden").mkdir()
    (root / ".hidden" / "c.txt").write_text("hidden")
    return root


def test_supported_files_are_found_by_relative_posix_id(tmp_path: Path) -> None:
    found, skipped = discover(_tree(tmp_path / "k"))
    assert [f.doc_id for f in found] == ["a.md", "sub/b.pdf"]
    assert found[0].size == 3
    assert skipped == [("notes.xlsx", "unsupported file type '.xlsx'")]


def test_a_single_file_is_its_own_corpus(tmp_path: Path) -> None:
    one = tmp_path / "one.txt"
    one.write_text("text")
    found, skipped = discover(one)
    assert [(f.doc_id, f.size) for f in found] == [("one.txt", 4)] and skipped == []


def test_a_missing_folder_is_bad_input(tmp_path: Path) -> None:
    with pytest.raises(BadInput, match="does not exist"):
        discover(tmp_path / "nowhere")


def test_links_out_of_the_folder_or_broken_are_passed_over_by_name(tmp_path: Path) -> None:
    root = _tree(tmp_path / "k")
    outside = tmp_path / "outside.md"
    outside.write_text("outside")
    (root / "in.md").symlink_to(root / "a.md")
    (root / "out.md").symlink_to(outside)
    (root / "gone.md").symlink_to(tmp_path / "missing.md")
    found, skipped = discover(root)
    assert "in.md" in [f.doc_id for f in found]
    reasons = dict(skipped)
    assert reasons["out.md"] == "is a link to outside the knowledge folder"
    assert reasons["gone.md"].startswith("is a broken link")


def test_manifest_is_read_and_a_bad_one_is_refused(tmp_path: Path) -> None:
    assert load_manifest(tmp_path) == {}
    (tmp_path / "manifest.yaml").write_text("documents:\n  a.md:\n    title: A\n  b.md:\n")
    assert load_manifest(tmp_path) == {"a.md": {"title": "A"}, "b.md": {}}
    (tmp_path / "manifest.yaml").write_text("documents: [a.md]\n")
    with pytest.raises(BadInput, match="must map file names"):
        load_manifest(tmp_path)
    (tmp_path / "manifest.yaml").write_text("documents: {a.md: [\n")
    with pytest.raises(BadInput, match="not valid YAML"):
        load_manifest(tmp_path)


def test_manifest_entry_wins_over_inference() -> None:
    entry = {"title": "Board minutes", "doc_type": "minutes", "date": "2024-03-01", "partnership": "ESSCP"}
    meta = infer_meta("m.txt", "Annual report 2019 of the North Safeguarding Children Partnership", "", entry)
    assert (meta.title, meta.doc_type, meta.year, meta.partnership) == ("Board minutes", "minutes", 2024, "ESSCP")


def test_title_type_year_and_partnership_are_inferred_from_the_text() -> None:
    text = "# Annual Report 2022-2023\n\nThe Essex Safeguarding Children Partnership met six times."
    meta = infer_meta("r.md", text, "", {})
    assert meta.title == "Annual Report 2022-2023"
    assert meta.doc_type == "annual_report"
    assert meta.year == 2023  # the latest year named
    assert meta.partnership == "Essex Safeguarding Children Partnership"


def test_an_unknown_doc_type_is_refused_naming_the_file() -> None:
    with pytest.raises(BadInput, match="x.md: doc_type 'memo'"):
        infer_meta("x.md", "text", "", {"doc_type": "memo"})


def test_supersedes_takes_a_list_or_a_comma_separated_string() -> None:
    assert infer_meta("n.md", "t", "", {"supersedes": ["old.md", " older.md "]}).supersedes == "old.md,older.md"
    assert infer_meta("n.md", "t", "", {"supersedes": "old.md, older.md"}).supersedes == "old.md,older.md"


def test_file_hash_is_the_sha256_of_the_bytes() -> None:
    assert file_hash(b"") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert file_hash(b"a") != file_hash(b"b")
