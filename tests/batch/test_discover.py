"""Submission layouts: flat, folder per student, nbgrader, zips of each; what is skipped; zip safety."""
from __future__ import annotations

import io
import os
import sys
import zipfile
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from grader import assignments
from grader.batch import discover, entries
from grader.load import kinds
from grader.batch.student_ids import IdPattern
from grader.load import files as reading

BACKWARD = b"def backward_propagation_n(X, Y, cache):\n    return {}\n"
OTHER = b"def helper():\n    return 1\n"


def write_tree(root: Path, files: dict[str, bytes]) -> Path:
    """The files under root; a name ending in / is an empty folder."""
    root.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        path = root / name
        if name.endswith("/"):
            path.mkdir(parents=True, exist_ok=True)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return root


def zip_tree(path: Path, files: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as zipped:
        for name, data in files.items():
            zipped.writestr(name, data)
    return path


def found(submissions):
    return {submission.student: submission.filename for submission in submissions}


LAYOUTS = [
    pytest.param({"alice.py": BACKWARD, "bob.ipynb": b"{}", "notes.txt": b"x"},
                 {"alice": "alice.py", "bob": "bob.ipynb"}, id="flat"),
    pytest.param({"alice/work.py": BACKWARD, "bob/deep/er/hw.ipynb": b"{}"},
                 {"alice": "work.py", "bob": "hw.ipynb"}, id="folder-per-student"),
    pytest.param({"alice/helpers.py": OTHER, "alice/solution.py": BACKWARD, "bob/a.py": OTHER},
                 {"alice": "solution.py", "bob": "a.py"}, id="student-folder-picks-the-file-defining-the-function"),
    pytest.param({"submitted/alice/ps1/gradient_checking.ipynb": b"{}",
                  "submitted/bob/ps1/gradient_checking.ipynb": b"{}", "source/ps1/gradient_checking.ipynb": b"{}"},
                 {"alice": "gradient_checking.ipynb", "bob": "gradient_checking.ipynb"}, id="nbgrader"),
    pytest.param({"alice.py": BACKWARD, "alice.ipynb": b"{}"},
                 {"alice.py": "alice.py", "alice.ipynb": "alice.ipynb"}, id="same-stem-keeps-suffix"),
    pytest.param({"alice.py": BACKWARD, ".hidden.py": BACKWARD, "__MACOSX/._alice.py": b"\x00",
                  ".ipynb_checkpoints/alice-checkpoint.ipynb": b"{}", "__pycache__/x.py": b""},
                 {"alice": "alice.py"}, id="hidden-and-metadata-skipped"),
    pytest.param({"alice.py": BACKWARD, "l_layer/deep.py": BACKWARD, "one_d/warm.py": BACKWARD},
                 {"alice": "alice.py"}, id="other-assignment-folders-skipped"),
]


@pytest.mark.parametrize("files, expected", LAYOUTS)
def test_folder_layouts(tmp_path, files, expected):
    assert found(discover.discover(write_tree(tmp_path / "class", files), assignment=assignments.get("three_layer"))) == expected


@pytest.mark.parametrize("files, expected", LAYOUTS)
def test_zip_layouts_match_folders(tmp_path, files, expected):
    archive = zip_tree(tmp_path / "class.zip", files)
    submissions = discover.discover(archive, assignment=assignments.get("three_layer"))
    assert found(submissions) == expected
    assert all(submission.read() == files[submission.member] for submission in submissions)


@pytest.mark.parametrize("assignment, expected", [
    pytest.param("three_layer", {"alice": "alice.py"}, id="top-level-files"),
    pytest.param("l_layer", {"deep": "deep.py", "deeper": "deeper.py"}, id="l_layer-folder"),
    pytest.param("one_d", {"warm": "warm.py"}, id="one_d-folder"),
])
def test_assignment_folder_holds_that_assignments_submissions(tmp_path, assignment, expected):
    files = {"alice.py": BACKWARD, "l_layer/deep.py": BACKWARD, "l_layer/deeper.py": BACKWARD,
             "one_d/warm.py": BACKWARD}
    assert found(discover.discover(write_tree(tmp_path / "class", files), assignment=assignments.get(assignment))) == expected
    assert found(discover.discover(zip_tree(tmp_path / "class.zip", files), assignment=assignments.get(assignment))) == expected


def test_zip_wrapped_in_one_top_folder_is_unwrapped(tmp_path):
    archive = zip_tree(tmp_path / "class.zip", {"class/alice.py": BACKWARD, "class/bob.py": BACKWARD})
    assert found(discover.discover(archive)) == {"alice": "alice.py", "bob": "bob.py"}


@pytest.mark.parametrize("name", [
    pytest.param("../evil.py", id="parent"),
    pytest.param("/etc/evil.py", id="absolute"),
    pytest.param("a/../../evil.py", id="nested-parent"),
    pytest.param("C:/evil.py", id="drive"),
    pytest.param("..\\evil.py", id="backslash-parent"),
])
def test_zip_member_that_could_escape_is_skipped(tmp_path, name):
    assert entries.safe_member_parts(name) is None
    archive = zip_tree(tmp_path / "class.zip", {name: BACKWARD, "alice.py": BACKWARD})
    assert found(discover.discover(archive)) == {"alice": "alice.py"}


def test_zip_symlink_member_is_listed_but_never_read(tmp_path):
    path = tmp_path / "class.zip"
    with zipfile.ZipFile(path, "w") as zipped:
        link = zipfile.ZipInfo("link.py")
        link.external_attr = (0o120777 << 16)
        zipped.writestr(link, "/etc/passwd")
        zipped.writestr("alice.py", BACKWARD)
    submissions = discover.discover(path)
    assert found(submissions) == {"alice": "alice.py", "link": "link.py"}
    with pytest.raises(reading.UnreadableSubmission, match="link.py is a symbolic link in the zip"):
        submissions[1].read()


def test_oversized_submission_is_unreadable_not_fatal(tmp_path, monkeypatch):
    monkeypatch.setattr(reading, "MAX_FILE_BYTES", 100)
    archive = zip_tree(tmp_path / "class.zip", {"big.py": b"#" * 10_000_000, "small.py": BACKWARD})
    by_student = {submission.student: submission for submission in discover.discover(archive)}
    assert by_student["small"].read() == BACKWARD
    with pytest.raises(reading.UnreadableSubmission, match="larger than"):
        by_student["big"].read()


def test_zip_bomb_total_size_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(entries, "MAX_ZIP_BYTES", 1000)
    path = tmp_path / "bomb.zip"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zipped:
        zipped.writestr("a.py", b"\0" * 100_000)
    with pytest.raises(entries.DiscoverError, match="unpacks to more than"):
        discover.discover(path)


def test_symlink_out_of_the_class_folder_is_listed_but_never_followed(tmp_path):
    outside = tmp_path / "secret.py"
    outside.write_bytes(BACKWARD)
    root = write_tree(tmp_path / "class", {"alice.py": BACKWARD, "bob/notes.py": b"x = 1\n"})
    (root / "mallory.py").symlink_to(outside)
    (root / "bob" / "solution.py").symlink_to(outside)  # bob's own file is chosen over the link
    (root / "carol.py").symlink_to(root / "alice.py")  # inside the class folder: followed
    submissions = {submission.student: submission for submission in discover.discover(root, assignment=assignments.get("three_layer"))}
    assert found(submissions.values()) == {"alice": "alice.py", "bob": "notes.py", "carol": "carol.py",
                                           "mallory": "mallory.py"}
    assert submissions["carol"].read() == BACKWARD
    with pytest.raises(reading.UnreadableSubmission, match="symbolic link to a file outside the class folder"):
        submissions["mallory"].read()


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are a POSIX thing")
@pytest.mark.skipif(sys.platform == "darwin", reason="macOS file names are always UTF-8")
def test_a_file_name_that_is_not_utf8_gives_a_printable_student_id_and_is_still_read(tmp_path):
    root = tmp_path / "class"
    root.mkdir()
    os.mkdir(os.path.join(os.fsencode(root), b"d\xe9j\xe0"))  # Latin-1 bytes, as an old zip tool writes them
    for name in (b"\xff\xfebob.py", b"d\xe9j\xe0/hw.py"):
        with open(os.path.join(os.fsencode(root), name), "wb") as handle:
            handle.write(BACKWARD)
    (root / "alice.py").write_bytes(BACKWARD)
    found_ = discover.survey(root, assignment=assignments.get("three_layer"))
    students = [submission.student for submission in found_.submissions]
    assert sorted(students) == sorted(["alice", "d\\xe9j\\xe0", "\\xff\\xfebob"])
    for submission in found_.submissions:
        submission.student.encode("utf-8")  # printable, storable, writable as a page name
        submission.filename.encode("utf-8")
        assert submission.read() == BACKWARD


def test_a_named_pipe_is_unreadable_at_once_not_waited_on(tmp_path):
    root = write_tree(tmp_path / "class", {"alice.py": BACKWARD, "dave/solution.py": BACKWARD})
    os.mkfifo(root / "eve.py")
    os.mkfifo(root / "dave" / "pipe.py")  # read while choosing dave's file: must not block either
    submissions = {submission.student: submission for submission in discover.discover(root, assignment=assignments.get("three_layer"))}
    assert submissions["dave"].filename == "solution.py"
    with pytest.raises(reading.UnreadableSubmission, match="eve.py is not a regular file"):
        submissions["eve"].read()


@pytest.mark.parametrize("make, message", [
    pytest.param(lambda p: p / "missing", "no such folder", id="missing"),
    pytest.param(lambda p: (p / "x.txt").write_text("x") and p / "x.txt", "expected a folder", id="plain-file"),
    pytest.param(lambda p: (p / "bad.zip").write_bytes(b"PK not a zip") and p / "bad.zip", "not a readable zip",
                 id="corrupt-zip"),
    pytest.param(lambda p: os.mkfifo(p / "class.zip") or p / "class.zip", "expected a folder", id="named-pipe",
                 marks=pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are a POSIX thing")),
])
def test_unusable_class_path_raises_one_line(tmp_path, make, message):
    with pytest.raises(entries.DiscoverError, match=message):
        discover.discover(make(tmp_path))


def test_sample_class_is_the_top_level_files(submissions_dir):
    students = [submission.student for submission in discover.discover(submissions_dir, assignment=assignments.get("three_layer"))]
    assert students and students == sorted(students)
    top_level = {path.stem for path in submissions_dir.iterdir() if path.suffix in (".py", ".ipynb")}
    assert {student.split(".")[0] for student in students} == top_level


def survey(tmp_path, files, *, zipped, assignment="three_layer"):
    root = zip_tree(tmp_path / "class.zip", files) if zipped else write_tree(tmp_path / "class", files)
    return discover.survey(root, assignment=assignments.get(assignment))


@pytest.mark.parametrize("zipped", [False, True], ids=["folder", "zip"])
@pytest.mark.parametrize("files, graded, empty", [
    pytest.param({"submitted/alice/three_layer/": b"", "submitted/bob/three_layer/hw.ipynb": b"{}",
                  "submitted/carol/": b""}, {"bob": "hw.ipynb"}, ["alice", "carol"], id="nbgrader"),
    pytest.param({"alice/hw.py": BACKWARD, "bob/": b"", "carol/.DS_Store": b"x", "dave/old/": b""},
                 {"alice": "hw.py"}, ["bob", "carol", "dave"], id="student-folders"),
])
def test_a_student_whose_folder_is_empty_gets_an_error_row_saying_so(tmp_path, zipped, files, graded, empty):
    submissions = {s.student: s for s in survey(tmp_path, files, zipped=zipped).submissions}
    assert {student: s.filename for student, s in submissions.items() if not s.refused} == graded
    assert sorted(student for student, s in submissions.items() if s.refused) == empty
    for student in empty:
        with pytest.raises(reading.UnreadableSubmission, match=rf"^{student}/ is empty: nothing was submitted$"):
            submissions[student].read()


@pytest.mark.parametrize("zipped", [False, True], ids=["folder", "zip"])
def test_an_empty_folder_beside_a_flat_class_is_listed_not_graded(tmp_path, zipped):
    found_ = survey(tmp_path, {"alice.py": BACKWARD, "misc/": b""}, zipped=zipped)
    assert found(found_.submissions) == {"alice": "alice.py"} and found_.not_graded == ("misc/",)


@pytest.mark.parametrize("zipped", [False, True], ids=["folder", "zip"])
def test_names_in_any_case_or_renamed_by_a_download_are_graded(tmp_path, zipped):
    files = {"Alice.PY": BACKWARD, "bob.IPYNB": b"{}", "carol.ipynb.txt": b"{}", "dave.py.json": BACKWARD,
             "erin/Homework.Ipynb": b"{}"}
    found_ = survey(tmp_path, files, zipped=zipped)
    assert found(found_.submissions) == {"Alice": "Alice.PY", "bob": "bob.IPYNB", "carol": "carol.ipynb.txt",
                                         "dave": "dave.py.json", "erin": "Homework.Ipynb"}
    assert found_.not_graded == ()


@pytest.mark.parametrize("zipped", [False, True], ids=["folder", "zip"])
def test_files_that_are_not_submissions_are_listed_as_not_graded(tmp_path, zipped):
    files = {"alice.py": BACKWARD, "README.md": b"x", "frank.zip": b"PK", "gina.docx": b"x", "notes.txt": b"x",
             ".hidden": b"x", "__MACOSX/._alice.py": b"x", "l_layer/readme.txt": b"x"}
    found_ = survey(tmp_path, files, zipped=zipped)
    assert found(found_.submissions) == {"alice": "alice.py"}
    assert found_.not_graded == ("README.md", "frank.zip", "gina.docx", "notes.txt")


@pytest.mark.parametrize("zipped", [False, True], ids=["folder", "zip"])
def test_a_student_folder_with_nothing_gradable_is_an_error_row_naming_its_files(tmp_path, zipped):
    files = {"alice/hw.py": BACKWARD, "alice/data.csv": b"1", "bob/hw.zip": b"PK", "bob/scan.pdf": b"%PDF",
             "bob/.DS_Store": b"x"}
    found_ = survey(tmp_path, files, zipped=zipped)
    submissions = {submission.student: submission for submission in found_.submissions}
    assert set(submissions) == {"alice", "bob"} and found_.not_graded == ()
    assert submissions["alice"].read() == BACKWARD
    with pytest.raises(reading.UnreadableSubmission, match=r"^no .py or .ipynb file in bob/ \(it holds hw.zip, scan.pdf\)$"):
        submissions["bob"].read()


def zip_bytes(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zipped:
        for name, data in files.items():
            zipped.writestr(name, data)
    return buffer.getvalue()


def test_a_zip_a_student_handed_in_is_opened_when_nothing_beside_it_is_gradable(tmp_path):
    files = {"alice/hw.py": BACKWARD, "bob/hw.zip": zip_bytes({"hw/gc.ipynb": b"{}", "hw/notes.txt": b"x"}),
             "carol/mine.zip": zip_bytes({"a.py": OTHER, "b.py": BACKWARD}), "dave/hw.py": BACKWARD,
             "dave/old.zip": zip_bytes({"old.py": BACKWARD}), "erin/broken.zip": b"PK not a zip"}
    submissions = {s.student: s for s in discover.survey(write_tree(tmp_path / "class", files),
                                                        assignment=assignments.get("three_layer")).submissions}
    assert submissions["bob"].filename == "gc.ipynb" and submissions["bob"].read() == b"{}"
    assert submissions["bob"].note == "graded bob/hw.zip/hw/gc.ipynb, from inside the zip"
    assert submissions["carol"].read() == BACKWARD and "graded carol/mine.zip/b.py; also found carol/mine.zip/a.py" == submissions["carol"].note
    assert submissions["dave"].filename == "hw.py" and submissions["dave"].member is None
    with pytest.raises(reading.UnreadableSubmission, match=r"no .py or .ipynb file in erin/ \(it holds broken.zip\)"):
        submissions["erin"].read()


def test_in_a_class_of_zipped_folders_a_broken_zip_is_still_an_error_row(tmp_path):
    files = {"alice/hw.zip": zip_bytes({"hw.py": BACKWARD}), "bob/hw.zip": b"PK not a zip"}
    found_ = discover.survey(write_tree(tmp_path / "class", files), assignment=assignments.get("three_layer"))
    assert [s.student for s in found_.submissions] == ["alice", "bob"] and found_.not_graded == ()
    assert found_.submissions[1].refused == "no .py or .ipynb file in bob/ (it holds hw.zip)"


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are a POSIX thing")
def test_a_named_pipe_called_zip_in_a_student_folder_is_not_waited_on(tmp_path):
    import signal

    class Hung(Exception):
        """Not an OSError, which discovery would take for an unreadable zip."""

    def hung(*_):
        raise Hung("discovery waited on the named pipe")

    root = write_tree(tmp_path / "class", {"alice/hw.py": BACKWARD, "bob/notes.txt": b"x"})
    os.mkfifo(root / "bob" / "hw.zip")
    previous = signal.signal(signal.SIGALRM, hung)
    signal.alarm(10)  # a hang fails this test instead of stopping the suite
    try:
        found_ = discover.survey(root, assignment=assignments.get("three_layer"))
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    assert found_.submissions[1].refused == "no .py or .ipynb file in bob/ (it holds hw.zip, notes.txt)"


def test_a_zip_inside_the_class_zip_stays_shut(tmp_path):
    files = {"alice/hw.py": BACKWARD, "bob/hw.zip": zip_bytes({"gc.py": BACKWARD})}
    submissions = {s.student: s for s in discover.survey(zip_tree(tmp_path / "class.zip", files),
                                                        assignment=assignments.get("three_layer")).submissions}
    with pytest.raises(reading.UnreadableSubmission, match=r"in bob/ \(it holds hw.zip\)"):
        submissions["bob"].read()


def test_an_nbgrader_student_without_a_notebook_is_an_error_row(tmp_path):
    files = {"submitted/alice/ps1/gc.ipynb": b"{}", "submitted/bob/ps1/gc.html": b"<p>",
             "source/ps1/gc.ipynb": b"{}", "gradebook.db": b"x"}
    found_ = survey(tmp_path, files, zipped=False)
    submissions = {submission.student: submission for submission in found_.submissions}
    assert set(submissions) == {"alice", "bob"} and found_.not_graded == ()
    with pytest.raises(reading.UnreadableSubmission, match=r"in bob/ \(it holds ps1/gc.html\)"):
        submissions["bob"].read()


def test_a_folder_of_other_files_beside_flat_submissions_is_listed_not_a_student(tmp_path):
    files = {"alice.py": BACKWARD, "data/x.csv": b"1", "data/more/y.csv": b"2"}
    found_ = survey(tmp_path, files, zipped=False)
    assert found(found_.submissions) == {"alice": "alice.py"}
    assert found_.not_graded == ("data/more/y.csv", "data/x.csv")


def test_a_zip_wrapped_in_one_folder_is_unwrapped_whatever_else_it_holds(tmp_path):
    files = {"class/alice.py": BACKWARD, "class/bob.py": BACKWARD, "class/README.md": b"x"}
    found_ = survey(tmp_path, files, zipped=True)
    assert found(found_.submissions) == {"alice": "alice.py", "bob": "bob.py"}
    assert found_.not_graded == ("README.md",)


def test_the_reports_folder_inside_the_class_folder_is_not_looked_into(tmp_path):
    root = write_tree(tmp_path / "class", {"alice/hw.py": BACKWARD, "reports/alice.html": b"<p>",
                                          "reports/results.json": b"[]", "bob/hw.py": BACKWARD})
    found_ = discover.survey(root, assignment=assignments.get("three_layer"), leave_out=root / "reports")
    assert found(found_.submissions) == {"alice": "hw.py", "bob": "hw.py"} and found_.not_graded == ()
    assert "reports" in found(discover.survey(root, assignment=assignments.get("three_layer")).submissions)


NAMES = st.builds(lambda stem, suffix: stem + suffix, st.sampled_from(["alice", "Bob", "hw", "data"]),
                  st.sampled_from([".py", ".PY", ".ipynb", ".ipynb.txt", ".py.json", ".txt", ".zip", ".md", ""]))
TREES = st.dictionaries(
    st.one_of(NAMES, st.builds(lambda folder, name: f"{folder}/{name}", st.sampled_from(["erin", "Frank", "misc"]),
                               NAMES)), st.just(BACKWARD), min_size=1, max_size=8)


@hypothesis_settings(max_examples=60, deadline=None)
@given(files=TREES)
def test_every_file_is_a_submission_part_of_one_or_listed_as_not_graded(files):
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        root = write_tree(Path(folder) / "class", files)
        found_ = discover.survey(root, assignment=assignments.get("three_layer"))
    by_student = {submission.student: submission for submission in found_.submissions}
    assert len(by_student) == len(found_.submissions)
    graded = {submission.path.relative_to(root).as_posix() for submission in found_.submissions}
    for path in files:
        top, _, rest = path.partition("/")
        if not rest:  # a file directly in the class folder
            assert (path in graded) == (kinds.source_kind(path) is not None), path
            assert (path in found_.not_graded) == (kinds.source_kind(path) is None), path
        else:  # a file in a folder: its folder is a student, or the file is listed
            assert (top in by_student or f"{top}/" in by_student or path in found_.not_graded
                    or any(submission.group == top for submission in found_.submissions)), path


@pytest.mark.parametrize("name,student", [("alice.py", "alice"), ("alice/hw.py", "alice")])
def test_a_zip_with_two_entries_of_one_name_grades_the_last_and_says_so(tmp_path, name, student):
    # An archive appended to (zip -g, an LMS adding a resubmission) can hold one name twice.
    path = tmp_path / "class.zip"
    with pytest.warns(UserWarning, match="Duplicate name"), zipfile.ZipFile(path, "w") as zipped:
        zipped.writestr(name, b"first = 1\n")
        zipped.writestr("bob.py", BACKWARD)
        zipped.writestr(name, b"second = 2\n")
    by_student = {submission.student: submission for submission in discover.discover(path)}
    assert sorted(by_student) == sorted(["bob", student])
    assert by_student[student].read() == b"second = 2\n"
    assert by_student[student].note == f"the zip holds 2 files named {name}; graded the last of them"
    assert by_student["bob"].note == ""


def survey_with(tmp_path, files, pattern, *, zipped=False):
    root = zip_tree(tmp_path / "class.zip", files) if zipped else write_tree(tmp_path / "class", files)
    return discover.survey(root, assignment=assignments.get("three_layer"), id_pattern=IdPattern.parse(pattern))


@pytest.mark.parametrize("zipped", [False, True], ids=["folder", "zip"])
@pytest.mark.parametrize("pattern, files, expected", [
    pytest.param("canvas", {"doejane_1234_56789_gradient_checking.ipynb": b"{}",
                            "roeric_LATE_77_5_gc.py": BACKWARD},
                 {"doejane_1234": "doejane_1234_56789_gradient_checking.ipynb", "roeric_77": "roeric_LATE_77_5_gc.py"},
                 id="canvas"),
    pytest.param("moodle", {"Jane Doe_123456_assignsubmission_file_/gc.ipynb": b"{}",
                            "Eric Roe_654321_assignsubmission_file_/gc.py": BACKWARD},
                 {"Jane Doe_123456": "gc.ipynb", "Eric Roe_654321": "gc.py"}, id="moodle-folders"),
    pytest.param("blackboard", {"Gradient Checking_jdoe_attempt_2026-03-01-10-20-30_gc.ipynb": b"{}",
                                "Gradient Checking_jdoe_attempt_2026-03-01-10-20-30.txt": b"comments",
                                "Gradient Checking_eroe_attempt_2026-03-02-09-00-00_hw.py": BACKWARD},
                 {"jdoe": "Gradient Checking_jdoe_attempt_2026-03-01-10-20-30_gc.ipynb",
                  "eroe": "Gradient Checking_eroe_attempt_2026-03-02-09-00-00_hw.py"}, id="blackboard"),
    pytest.param(r"^hw1-(\w+?)-", {"hw1-alice-final.py": BACKWARD, "hw1-bob-v2.ipynb": b"{}"},
                 {"alice": "hw1-alice-final.py", "bob": "hw1-bob-v2.ipynb"}, id="own-regex-group"),
])
def test_an_id_pattern_reads_the_student_ids_an_lms_wrote_into_its_names(tmp_path, zipped, pattern, files, expected):
    assert found(survey_with(tmp_path, files, pattern, zipped=zipped).submissions) == expected


def test_one_students_several_files_are_one_row_graded_like_a_student_folder(tmp_path):
    # Canvas names each attachment of a submission; the notebook that defines the function is graded.
    found_ = survey_with(tmp_path, {"doejane_1234_1_helpers.py": OTHER, "doejane_1234_2_gc.py": BACKWARD,
                                    "doejane_1234_3_report.pdf": b"%PDF", "roeric_77_4_gc.py": BACKWARD}, "canvas")
    by_student = {submission.student: submission for submission in found_.submissions}
    assert sorted(by_student) == ["doejane_1234", "roeric_77"]
    assert by_student["doejane_1234"].filename == "doejane_1234_2_gc.py"
    assert by_student["doejane_1234"].note == "graded doejane_1234_2_gc.py; also found doejane_1234_1_helpers.py"
    assert found_.not_graded == ()


def test_a_student_who_sent_only_a_pdf_is_an_error_row_under_the_id(tmp_path):
    found_ = survey_with(tmp_path, {"doejane_1234_1_gc.pdf": b"%PDF", "roeric_77_4_gc.py": BACKWARD}, "canvas")
    by_student = {submission.student: submission for submission in found_.submissions}
    with pytest.raises(reading.UnreadableSubmission, match="no .py or .ipynb file in doejane_1234/"):
        by_student["doejane_1234"].read()


def test_a_name_the_pattern_finds_no_id_in_is_graded_under_its_own_name_and_says_so(tmp_path):
    found_ = survey_with(tmp_path, {"doejane_1234_1_gc.py": BACKWARD, "late-by-email.py": BACKWARD}, "canvas")
    by_student = {submission.student: submission for submission in found_.submissions}
    assert sorted(by_student) == ["doejane_1234", "late-by-email"]
    assert by_student["late-by-email"].note == ("late-by-email.py does not match the id pattern canvas: "
                                                "graded under its own name")
    assert by_student["doejane_1234"].note == ""


def test_an_id_that_names_an_assignment_folder_is_no_student_and_nothing_goes_missing(tmp_path):
    found_ = survey_with(tmp_path, {"one_d-x.py": BACKWARD, "alice-x.py": BACKWARD, "l_layer/deep.py": BACKWARD},
                         r"^(\w+)-")
    assert found(found_.submissions) == {"alice": "alice-x.py", "one_d-x": "one_d-x.py"}


LMS_NAMES = st.builds(lambda student, number, name: f"{student}_{number}_9_{name}",
                      st.sampled_from(["doejane", "roeric", "hw"]), st.sampled_from(["1", "2"]), NAMES)
LMS_TREES = st.dictionaries(st.one_of(LMS_NAMES, NAMES, st.builds(lambda top, name: f"{top}/{name}", LMS_NAMES, NAMES)),
                            st.just(BACKWARD), min_size=1, max_size=8).filter(
    lambda files: not any(other.startswith(path + "/") for path in files for other in files))  # a file is no folder


@hypothesis_settings(max_examples=60, deadline=None)
@given(files=LMS_TREES)
def test_under_an_id_pattern_every_file_is_graded_part_of_its_students_files_or_listed(files):
    import tempfile

    pattern = IdPattern.parse("canvas")
    with tempfile.TemporaryDirectory() as folder:
        root = write_tree(Path(folder) / "class", files)
        found_ = discover.survey(root, assignment=assignments.get("three_layer"), id_pattern=pattern)
    by_student = {submission.student: submission for submission in found_.submissions}
    assert len(by_student) == len(found_.submissions)
    graded = {submission.path.relative_to(root).as_posix() for submission in found_.submissions}
    for path in files:
        top = path.split("/")[0]
        student = pattern.student(top)
        assert path in graded or path in found_.not_graded or (student or top) in by_student, path
        if student is not None and student in by_student:  # a student's file is never listed as no one's
            assert path not in found_.not_graded, path


def test_a_stray_file_beside_the_folder_wrapping_a_class_zip_is_listed_not_graded(tmp_path):
    files = {"class/alice.py": BACKWARD, "class/bob.py": BACKWARD, "README.txt": b"graded by hand"}
    found_ = survey(tmp_path, files, zipped=True)
    assert found(found_.submissions) == {"alice": "alice.py", "bob": "bob.py"}
    assert found_.not_graded == ("README.txt",)


@pytest.mark.parametrize("zipped", [False, True], ids=["folder", "zip"])
def test_a_name_macos_wrote_decomposed_is_one_student_with_the_composed_one(tmp_path, zipped):
    import unicodedata

    decomposed = unicodedata.normalize("NFD", "José")
    files = {f"{decomposed}.py": BACKWARD, f"{unicodedata.normalize('NFD', 'Zoë')}/gc.py": BACKWARD}
    submissions = survey(tmp_path, files, zipped=zipped).submissions
    assert [s.student for s in submissions] == ["José", "Zoë"]
    assert all(unicodedata.is_normalized("NFC", s.student + s.filename) for s in submissions)
    assert [s.read() for s in submissions] == [BACKWARD, BACKWARD]  # still read under the name on disk


SECTIONS = {"sec1/alice.py": BACKWARD, "sec1/bob.ipynb": b"{}", "sec2/carol.py": BACKWARD, "sec2/dan/gc.ipynb": b"{}",
            "sec2/dan/notes.md": b"x"}


def by_id(found_):
    return {submission.student: submission for submission in found_.submissions}


@pytest.mark.parametrize("zipped, wrap", [(False, ""), (True, ""), (True, "class/")], ids=["folder", "zip", "wrapped-zip"])
def test_section_folders_are_groups_of_students_not_students(tmp_path, zipped, wrap):
    files = {wrap + name: data for name, data in SECTIONS.items()}
    files[wrap + "sec1/bob.ipynb"] = b'{"cells": [{"cell_type": "code", "source": "def backward_propagation_n(X, Y, cache): pass"}]}'
    files[wrap + "sec2/dan/gc.ipynb"] = files[wrap + "sec1/bob.ipynb"]
    found_ = survey(tmp_path, files, zipped=zipped)
    submissions = by_id(found_)
    assert {s: (sub.group, sub.filename) for s, sub in submissions.items()} == {
        "alice": ("sec1", "alice.py"), "bob": ("sec1", "bob.ipynb"), "carol": ("sec2", "carol.py"),
        "dan": ("sec2", "gc.ipynb")}
    assert found_.not_graded == () and found_.ambiguous == ()
    assert submissions["dan"].not_graded == ("sec2/dan/notes.md",) and submissions["dan"].graded_path == "sec2/dan/gc.ipynb"
    assert submissions["carol"].read() == BACKWARD


@pytest.mark.parametrize("zipped", [False, True], ids=["folder", "zip"])
def test_a_section_of_student_folders_is_a_group(tmp_path, zipped):
    files = {"sec1/alice/gc.ipynb": BACKWARD, "sec1/bob/gc.py": BACKWARD, "sec2/carol/hw/gc.py": BACKWARD,
             "sec2/dan/gc.py": BACKWARD}
    submissions = by_id(survey(tmp_path, files, zipped=zipped))
    assert {s: sub.group for s, sub in submissions.items()} == {"alice": "sec1", "bob": "sec1", "carol": "sec2",
                                                                 "dan": "sec2"}


@pytest.mark.parametrize("zipped", [False, True], ids=["folder", "zip"])
def test_one_students_versions_are_no_group(tmp_path, zipped):
    files = {"alice/gc_v1.ipynb": BACKWARD, "alice/gc_v2.ipynb": BACKWARD, "alice/gc_utils.py": OTHER,
             "bob/Gradient_Checking.ipynb": BACKWARD, "bob/Gradient_Checking-Copy1.ipynb": BACKWARD,
             "carol/v1/gc.py": BACKWARD, "carol/v2/gc.py": BACKWARD, "dan/gc.py": BACKWARD, "dan/old/gc.py": BACKWARD}
    found_ = survey(tmp_path, files, zipped=zipped)
    assert {s: sub.group for s, sub in by_id(found_).items()} == {"alice": "", "bob": "", "carol": "", "dan": ""}
    assert found_.ambiguous == ()


def test_two_students_of_one_name_in_two_sections_are_two_rows(tmp_path):
    files = {"sec1/alice.py": BACKWARD, "sec1/bob.py": BACKWARD, "sec2/alice.py": BACKWARD, "sec2/carol.py": BACKWARD}
    found_ = survey(tmp_path, files, zipped=False)
    # The same name in two folders is what one student's file names do (gc.py in every folder), not
    # student ids: graded as two students' folders, each with its files listed, and said to be ambiguous.
    assert len(found_.submissions) == 2 and len(found_.ambiguous) == 2
    assert all("could be several students" in line for line in found_.ambiguous)


def test_a_student_folder_among_many_holding_two_solutions_stays_one_student_and_is_reported(tmp_path):
    files = {"alice/gc.ipynb": BACKWARD, "alice/solution.py": BACKWARD, "bob/gc.ipynb": BACKWARD,
             "carol/gc.ipynb": BACKWARD}
    found_ = survey(tmp_path, files, zipped=False)
    assert sorted(by_id(found_)) == ["alice", "bob", "carol"]
    assert found_.ambiguous == ("alice/ holds gc.ipynb, solution.py, which could be several students' work: "
                                "graded as one student, alice",)


def test_a_lone_student_in_a_section_is_a_student_of_that_section_and_said_so(tmp_path):
    files = {"sec1/alice.py": BACKWARD, "sec1/bob.py": BACKWARD, "sec2/carol.py": BACKWARD,
             "sec3/dan.py": BACKWARD, "sec3/erin.py": BACKWARD}
    found_ = survey(tmp_path, files, zipped=False)
    assert {s: sub.group for s, sub in by_id(found_).items()} == {
        "alice": "sec1", "bob": "sec1", "carol": "sec2", "dan": "sec3", "erin": "sec3"}
    assert found_.ambiguous == ("sec2/ holds one student's work (carol.py) among folders of several students': "
                                "graded as group sec2",)


def set_times(root: Path, times: dict[str, int]) -> None:
    for name, seconds in times.items():
        os.utime(root / name, (seconds, seconds))


def zip_with_times(path: Path, files: dict[str, bytes], times: dict[str, tuple]) -> Path:
    with zipfile.ZipFile(path, "w") as zipped:
        for name, data in files.items():
            zipped.writestr(zipfile.ZipInfo(name, times.get(name, (2026, 3, 1, 12, 0, 0))), data)
    return path


DAY = 86_400
T0 = 1_772_000_000


@pytest.mark.parametrize("files, times, graded", [
    pytest.param({"alice/gc_v1.ipynb": BACKWARD, "alice/gc_v2.ipynb": BACKWARD}, {}, "gc_v2.ipynb", id="version"),
    pytest.param({"alice/Gradient_Checking-Copy1.ipynb": BACKWARD, "alice/Gradient_Checking.ipynb": BACKWARD}, {},
                 "Gradient_Checking.ipynb", id="copy"),
    pytest.param({"alice/gc_v1.ipynb": BACKWARD, "alice/gc_v2.ipynb": BACKWARD},
                 {"alice/gc_v1.ipynb": 2}, "gc_v1.ipynb", id="newer-time-wins-over-version"),
    pytest.param({"alice/a.py": BACKWARD, "alice/b.py": BACKWARD}, {"alice/a.py": 1}, "a.py", id="newest"),
    pytest.param({"alice/new.py": OTHER, "alice/old.py": BACKWARD}, {"alice/new.py": 1}, "old.py",
                 id="defining-the-function-first"),
])
@pytest.mark.parametrize("zipped", [False, True], ids=["folder", "zip"])
def test_of_a_students_several_files_the_newest_is_graded(tmp_path, zipped, files, times, graded):
    files = {**files, "bob/gc.py": BACKWARD}
    if zipped:
        root = zip_with_times(tmp_path / "class.zip", files,
                              {name: (2026, 3, 1 + days, 12, 0, 0) for name, days in times.items()})
    else:
        root = write_tree(tmp_path / "class", files)
        set_times(root, {name: T0 + DAY * times.get(name, 0) for name in files})
    alice = by_id(discover.survey(root, assignment=assignments.get("three_layer")))["alice"]
    assert alice.filename == graded
    assert alice.graded_path == f"alice/{graded}"
    assert alice.not_graded == tuple(sorted(f"{name}" for name in files if name.startswith("alice/") and
                                            name != f"alice/{graded}"))


@pytest.mark.parametrize("zipped", [False, True], ids=["folder", "zip"])
def test_blackboards_newest_attempt_is_graded_whatever_the_files_times(tmp_path, zipped):
    old = "Gradient Checking_jdoe_attempt_2026-03-01-10-20-30_gc.ipynb"
    new = "Gradient Checking_jdoe_attempt_2026-03-05-09-00-00_gc.ipynb"
    files = {new: BACKWARD, old: BACKWARD}
    if zipped:
        root = zip_with_times(tmp_path / "class.zip", files, {old: (2026, 3, 9, 0, 0, 0)})
    else:
        root = write_tree(tmp_path / "class", files)
        set_times(root, {old: T0 + DAY, new: T0})
    jdoe = by_id(discover.survey(root, assignment=assignments.get("three_layer"), id_pattern=IdPattern.parse("blackboard")))["jdoe"]
    assert jdoe.filename == new and jdoe.not_graded == (old,)


def test_a_name_pattern_picks_the_file_it_matches(tmp_path):
    from grader.grading.picking import Pick, Rule

    root = write_tree(tmp_path / "class", {"alice/gc_final.py": BACKWARD, "alice/gc_v3.py": BACKWARD,
                                          "bob/gc_v2.py": BACKWARD, "bob/gc_v1.py": BACKWARD})
    set_times(root, {"alice/gc_final.py": T0, "alice/gc_v3.py": T0 + DAY, "bob/gc_v2.py": T0, "bob/gc_v1.py": T0})
    submissions = by_id(discover.survey(root, assignment=assignments.get("three_layer"), pick=Pick(Rule.NAME_PATTERN, r"final")))
    assert submissions["alice"].filename == "gc_final.py"
    assert submissions["bob"].filename == "gc_v2.py"  # nothing matches: the newest
    assert "none of bob's files matches 'final'" in submissions["bob"].note


def test_the_instructors_pick_wins_and_a_pick_naming_no_file_is_reported(tmp_path):
    from grader.grading.picking import Pick

    root = write_tree(tmp_path / "class", {"alice/gc_v1.py": BACKWARD, "alice/gc_v2.py": BACKWARD,
                                          "bob/gc.py": BACKWARD, "bob/gc_v2.py": BACKWARD})
    found_ = discover.survey(root, assignment=assignments.get("three_layer"),
                             pick=Pick(files={"alice": "gc_v1.py", "bob": "gc_v9.py", "zed": "gc.py"}))
    submissions = by_id(found_)
    assert submissions["alice"].filename == "gc_v1.py" and "the instructor's pick" in submissions["alice"].note
    assert submissions["bob"].filename == "gc_v2.py"
    assert "the pick gc_v9.py names no file of bob's" in submissions["bob"].note
    assert "a pick names zed, who is no student of this class" in found_.ambiguous


def test_a_pick_remembered_from_the_last_run_stays_while_the_files_are_the_same(tmp_path):
    root = write_tree(tmp_path / "class", {"alice/gc_v1.py": BACKWARD, "alice/gc_v2.py": BACKWARD})
    first = by_id(discover.survey(root, assignment=assignments.get("three_layer")))["alice"]
    assert first.graded_path == "alice/gc_v2.py"
    set_times(root, {"alice/gc_v1.py": T0 + DAY, "alice/gc_v2.py": T0})  # copied again: times changed
    remembered = {"alice": (first.graded_path, first.candidates)}
    again = by_id(discover.survey(root, assignment=assignments.get("three_layer"), remembered=remembered))["alice"]
    assert again.graded_path == "alice/gc_v2.py" and "as graded before" in again.note
    (root / "alice" / "gc_v3.py").write_bytes(BACKWARD)  # a new file: picked afresh
    fresh = by_id(discover.survey(root, assignment=assignments.get("three_layer"), remembered=remembered))["alice"]
    assert fresh.graded_path == "alice/gc_v3.py"


STUDENT_NAMES = ["alice", "bob", "carol", "dan", "erin", "frank", "gina", "hugo", "ines", "jon"]
SECTION_CLASSES = st.lists(
    st.tuples(st.sampled_from(["flat", "folder", "versions", "nested"]), st.sampled_from(["sec1", "sec2", "lab-A"])),
    min_size=4, max_size=len(STUDENT_NAMES)).filter(
    # Two sections at least (a zip of one section's folder is read as a class zip wrapped in a folder), and
    # no section of one student (a layout question, test_a_lone_student_in_a_section_...).
    lambda students: len({section for _, section in students}) > 1 and all(
        sum(1 for _, section in students if section == name) != 1 for name in {section for _, section in students}))


@hypothesis_settings(max_examples=60, deadline=None)
@given(students=SECTION_CLASSES, zipped=st.booleans())
def test_every_student_of_a_section_class_is_one_row_with_their_group(students, zipped):
    import tempfile

    files, expected = {}, {}
    for name, (shape, section) in zip(STUDENT_NAMES, students):
        expected[name] = section
        if shape == "flat":
            files[f"{section}/{name}.py"] = BACKWARD
        elif shape == "folder":
            files[f"{section}/{name}/gc.ipynb"] = BACKWARD
            files[f"{section}/{name}/gc_utils.py"] = OTHER
        elif shape == "versions":
            files[f"{section}/{name}_v1.py"] = BACKWARD
            files[f"{section}/{name}_v2.py"] = BACKWARD
        else:
            files[f"{section}/{name}/v1/gc.py"] = BACKWARD
            files[f"{section}/{name}/v2/gc.py"] = BACKWARD
    with tempfile.TemporaryDirectory() as folder:
        root = (zip_tree(Path(folder) / "class.zip", files) if zipped
                else write_tree(Path(folder) / "class", files))
        found_ = discover.survey(root, assignment=assignments.get("three_layer"))
    assert {s.student: s.group for s in found_.submissions} == expected
    assert found_.ambiguous == () and found_.not_graded == ()
