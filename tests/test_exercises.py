"""Every lesson ends with exercises, each with a collapsed worked answer whose code the tests run.

The convention (CONTRIBUTING): the page's last section before "Run it yourself" / the next
lesson is `## 练习 { #exercises }` / `## Exercises { #exercises }`; each answer is a collapsed
`??? success "答案"` / `??? success "Answer"` block that embeds a section `exN` of
`snippets/exercises/<lesson>.py`. That file is a plain script (`python
snippets/exercises/<lesson>.py` from the repository root): it starts with the lesson's own
`setup` section, copied unchanged, then one section per exercise. It sits in a subfolder, so
it is no lesson and no notebook page (both glob `snippets/*.py` only).

Here every answer's section runs after the setup, in a fresh namespace on the CPU, and
`CHECKS[lesson][exN]` compares what it computed with what the answer says: a number the
answer states is marked `<span data-claim="exN-name">` on both pages and read from the page,
never kept here (tests/lessons.py leaves `exN-` claims to this file).
"""

import contextlib
import functools
import io
import re
import runpy
from unittest import mock

import numpy as np
import pytest
import torch

import lessons
from conftest import DOCS, LESSONS, ROOT, SNIPPETS, run_section, section, section_names, setup_namespace
from lessons import EMBED

EXERCISES = SNIPPETS / "exercises"
EX = re.compile(r"^ex(\d+)$")
HEADING = {"zh": "## 练习 { #exercises }", "en": "## Exercises { #exercises }"}
ANSWER = {"zh": '??? success "答案"', "en": '??? success "Answer"'}


def name(lesson: str) -> str:
    """The exercises of a lesson, as conftest's helpers name a file below snippets/."""
    return f"exercises/{lesson}"


def exercises(lesson: str) -> list[str]:
    found = [n for n in section_names(name(lesson)) if EX.match(n)]
    return sorted(found, key=lambda n: int(EX.match(n)[1]))


def page(lesson: str, language: str):
    return DOCS / (f"{lesson}.md" if language == "zh" else f"{lesson}.en.md")


def exercises_section(lesson: str, language: str) -> str:
    """The page's Exercises section: from its heading to the next `## ` heading or `---` rule."""
    text = page(lesson, language).read_text(encoding="utf-8")
    assert HEADING[language] in text, f"{page(lesson, language).name} has no {HEADING[language]!r}"
    rest = text.split(HEADING[language], 1)[1]
    return re.split(r"^(?:## |---\s*$)", rest, maxsplit=1, flags=re.M)[0]


def answers(lesson: str, language: str) -> list[str]:
    """The collapsed answers of the Exercises section, each its indented body."""
    found, body = [], None
    for line in exercises_section(lesson, language).splitlines():
        if line.startswith(ANSWER[language]):
            body = []
            found.append(body)
        elif body is not None and (not line.strip() or line.startswith("    ")):
            body.append(line)
        else:
            body = None
    return ["\n".join(b) for b in found]


def claims_of(lesson: str, language: str, ex: str) -> dict[str, str]:
    text = page(lesson, language).read_text(encoding="utf-8")
    return {m["name"]: m["value"] for m in lessons.CLAIM.finditer(text) if m["name"].startswith(f"{ex}-")}


def run(lesson: str, *sections: str) -> tuple[dict, str]:
    """The exercises file's setup, then `sections`, in a fresh namespace on the CPU; and what they printed."""
    ns = setup_namespace(name(lesson))
    out = io.StringIO()
    with contextlib.redirect_stdout(out), mock.patch("torch.cuda.is_available", return_value=False):
        for s in sections:
            run_section(name(lesson), s, ns)
    return ns, out.getvalue()


# --- what each answer says, checked against its run -------------------------------------------------
# Each function gets the namespace the exercise left and the claims its answer marks on the page
# ({name: value as written}); it asserts what the answer says in words and returns
# {claim: whether the run agrees} for every marked number.


def numpy_warmup_ex1(ns, stated):
    # "grad_w1 has its shape, (D_in, H), either way": the shape check cannot tell them apart
    assert ns["shapes"]["w2"] == ns["shapes"]["grad_w2"] == (ns["D_in"], ns["H"])
    return {
        "ex1-right-error-below": ns["errors"]["w2"] < lessons.stated(stated["ex1-right-error-below"]),
        "ex1-wrong-error": lessons.as_stated(ns["errors"]["grad_w2"], stated["ex1-wrong-error"]),
    }


def numpy_warmup_ex2(ns, stated):
    # "each sample's grad_w2 has rank 1; the batch's has rank D_out"
    assert np.linalg.matrix_rank(ns["outers"][0]) == 1 and len(ns["outers"]) == ns["N"]
    assert np.linalg.matrix_rank(ns["grad_w2"]) == ns["D_out"]
    return {"ex2-gap-below": ns["gap"] < lessons.stated(stated["ex2-gap-below"])}


def tensors_ex1(ns, stated):
    # "the mask is a bool tensor of h's shape; the product is float32 and equal bit for bit"
    assert ns["mask"].dtype == torch.bool and ns["mask"].shape == ns["h"].shape
    assert ns["grad_h_mul"].dtype == ns["grad_h"].dtype == torch.float32
    assert torch.equal(ns["grad_h_mul"], ns["grad_h"])
    return {}


def autograd_ex1(ns, stated):
    # "after the second backward pass w1.grad is exactly twice the first"
    first, second = ns["grads"]
    assert torch.equal(second, 2 * first) and first.abs().max() > 0
    return {}


def custom_function_ex1(ns, stated):
    # "gradcheck returns True; the values are torch.sigmoid's"
    assert ns["passed"] is True and ns["same"]
    assert ns["inputs"].dtype == torch.float64
    # and gradcheck can fail: a backward without the factor (1 - s) does not pass
    wrong = type(
        "Wrong", (ns["MySigmoid"],), {"backward": staticmethod(lambda ctx, g: g * ctx.saved_tensors[0])}
    )
    assert not torch.autograd.gradcheck(wrong.apply, (ns["inputs"],), raise_exception=False)
    return {}


def nn_ex1(ns, stated):
    # "1e-3 is below 2 / lambda_max and trains; 3e-3 is above it and ends in nan"
    two_over_lam = 2 / ns["lam"]
    assert 1e-3 < two_over_lam < 3e-3 and np.isnan(ns["final"][3e-3])
    return {
        "ex1-h-std": lessons.as_stated(ns["model"][0](ns["x"]).std().item(), stated["ex1-h-std"]),
        "ex1-two-over-lambda": lessons.as_stated(two_over_lam, stated["ex1-two-over-lambda"]),
        "ex1-loss-1e-3": lessons.as_stated(ns["final"][1e-3], stated["ex1-loss-1e-3"]),
    }


def optim_ex1(ns, stated):
    # the two copies moved (so agreeing means something), and agree
    moved = max(
        (a.double() - b).abs().max().item()
        for a, b in zip(ns["model"].parameters(), ns["by_sgd"].parameters())
    )
    assert moved > 1e-6
    return {"ex1-gap-below": ns["gap"] < lessons.stated(stated["ex1-gap-below"])}


def custom_module_ex1(ns, stated):
    want = ns["D_in"] * ns["H"] + ns["H"] + ns["H"] * ns["D_out"] + ns["D_out"]
    return {"ex1-count": ns["count"] == want == lessons.stated(stated["ex1-count"])}


def custom_module_ex2(ns, stated):
    # "registered: w1, b1, w2, b2", of the lessons' shapes
    shapes = {n: tuple(p.shape) for n, p in ns["by_hand"].named_parameters()}
    D_in, H, D_out = ns["D_in"], ns["H"], ns["D_out"]
    assert shapes == {"w1": (D_in, H), "b1": (H,), "w2": (H, D_out), "b2": (D_out,)}
    return {"ex2-gap-below": ns["gap"] < lessons.stated(stated["ex2-gap-below"])}


def dynamic_graphs_ex1(ns, stated):
    scale = ns["shared"].abs().max().item()
    differ = (ns["first"] - ns["second"]).abs().max().item() / scale
    gap = (ns["shared"] - (ns["first"] + ns["second"])).abs().max().item() / scale
    return {
        "ex1-uses-differ": lessons.as_stated(differ, stated["ex1-uses-differ"]),
        "ex1-gap-below": gap < lessons.stated(stated["ex1-gap-below"]),
    }


def gradient_checking_ex1(ns, stated):
    table = io.StringIO()
    with contextlib.redirect_stdout(table):
        ns["error_table"](ns["grad_w1"])  # the table the answer prints, for the forgotten mask
    float64 = [float(row.split()[2]) for row in table.getvalue().splitlines()[1:]]
    assert len(float64) == 11
    right, forgot = ns["right"], ns["forgot"]
    return {
        "ex1-error": ns["error"] == lessons.stated(stated["ex1-error"]) and ns["error"] > 1,
        "ex1-table-float64": all(  # "about 4.6e-1 for every eps": within 5 %
            abs(e / lessons.stated(stated["ex1-table-float64"]) - 1) < 0.05 for e in float64
        ),
        "ex1-loss-forgotten": lessons.as_stated(forgot[499], stated["ex1-loss-forgotten"]),
        "ex1-loss-right": lessons.as_stated(right[499], stated["ex1-loss-right"]),
        "ex1-fall": lessons.as_stated(forgot[0] / forgot[499], stated["ex1-fall"]),
    }


def gradient_checking_ex2(ns, stated):
    return {"ex2-zeros": ns["zeros"] == lessons.stated(stated["ex2-zeros"])}


def gradient_checking_ex3(ns, stated):
    return {"ex3-error-below": ns["error"] < lessons.stated(stated["ex3-error-below"])}


@functools.cache
def real_data_accuracy() -> float:
    """The lesson's own validation accuracy after its own training (on one thread: the
    `one_thread` fixture below is in force in every test here)."""
    ns = lessons.setup("real_data")
    lessons.run("real_data", "model", "evaluate", "train", ns=ns)
    return ns["evaluate"](ns["model"], ns["x_val"], ns["y_val"])[1]


def real_data_ex1(ns, stated):
    assert isinstance(ns["mse_fn"], torch.nn.MSELoss) and ns["mse_fn"].reduction == "mean"
    return {
        "ex1-accuracy": lessons.as_stated(100 * ns["mse_accuracy"], stated["ex1-accuracy"]),
        "ex1-cross-entropy-accuracy": lessons.as_stated(
            100 * real_data_accuracy(), stated["ex1-cross-entropy-accuracy"]
        ),
    }


def real_data_ex2(ns, stated):
    # "each batch holds at most two digits", in the order of the digits
    batches = [y for _, y in ns["sorted_loader"]]
    assert max(len(set(y.tolist())) for y in batches) == 2
    assert sorted(ns["sorted_set"].tensors[1].tolist()) == ns["sorted_set"].tensors[1].tolist()
    never = int((torch.bincount(ns["predicted"], minlength=ns["D_out"]) == 0).sum())
    return {
        "ex2-accuracy": lessons.as_stated(100 * ns["sorted_accuracy"], stated["ex2-accuracy"]),
        "ex2-never-predicted": never == lessons.stated(stated["ex2-never-predicted"]),
        "ex2-shuffled-accuracy": lessons.as_stated(
            100 * real_data_accuracy(), stated["ex2-shuffled-accuracy"]
        ),
    }


# Sections of an exercises file that run after its setup and before each exercise: real_data's
# answers start from the lesson's model section (make_model, model, loss_fn, lr, optimizer).
BEFORE = {"real_data": ("model",)}

CHECKS = {
    "numpy_warmup": {"ex1": numpy_warmup_ex1, "ex2": numpy_warmup_ex2},
    "tensors": {"ex1": tensors_ex1},
    "autograd": {"ex1": autograd_ex1},
    "custom_function": {"ex1": custom_function_ex1},
    "nn": {"ex1": nn_ex1},
    "optim": {"ex1": optim_ex1},
    "custom_module": {"ex1": custom_module_ex1, "ex2": custom_module_ex2},
    "dynamic_graphs": {"ex1": dynamic_graphs_ex1},
    "gradient_checking": {
        "ex1": gradient_checking_ex1,
        "ex2": gradient_checking_ex2,
        "ex3": gradient_checking_ex3,
    },
    "real_data": {"ex1": real_data_ex1, "ex2": real_data_ex2},
}


@pytest.fixture(autouse=True)
def one_thread():
    """The exercises' matrices are small: one CPU thread runs them as fast as several on an idle
    machine, and far faster on a busy one. Restored after each test."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


# --- the tests --------------------------------------------------------------------------------------

EXERCISE_IDS = [
    (lesson, ex) for lesson in LESSONS if (EXERCISES / f"{lesson}.py").exists() for ex in exercises(lesson)
]


def test_exercises_are_no_lessons():
    """snippets/exercises/ is below snippets/: the lessons (and their notebook pages) glob snippets/*.py."""
    assert not any("exercises" in lesson for lesson in LESSONS)
    assert sorted(p.stem for p in EXERCISES.glob("*.py")) == sorted(
        p.stem for p in EXERCISES.glob("*.py") if p.stem in LESSONS
    ), "an exercises file whose name is no lesson"


@pytest.mark.parametrize("lesson", LESSONS)
def test_every_lesson_has_exercises(lesson):
    assert (EXERCISES / f"{lesson}.py").exists(), f"no snippets/exercises/{lesson}.py"
    found = exercises(lesson)
    assert found and set(found) <= {"ex1", "ex2", "ex3"}, f"1 to 3 exercises, ex1 to ex3: {found}"


@pytest.mark.parametrize("language", ["zh", "en"])
@pytest.mark.parametrize("lesson", LESSONS)
def test_every_exercise_is_answered_on_the_page(lesson, language):
    """Each exN section is embedded in the Nth collapsed answer of the Exercises section."""
    embedded, found = [], answers(lesson, language)
    for number, body in enumerate(found, 1):
        for line in body.splitlines():
            if m := EMBED.match(line):
                assert (m["path"], m["section"]) == (f"snippets/exercises/{lesson}.py", f"ex{number}"), (
                    f"{page(lesson, language).name}: answer {number} embeds {m['path']}:{m['section']}"
                )
                embedded.append(m["section"])
    assert embedded == exercises(lesson), f"{page(lesson, language).name}: the answers embed {embedded}"
    assert len(embedded) == len(found), f"{page(lesson, language).name}: an answer embeds no code"


@pytest.mark.parametrize("lesson", [lesson for lesson in LESSONS if (EXERCISES / f"{lesson}.py").exists()])
def test_the_copied_setup_is_the_lessons(lesson):
    """A section of the exercises file named like one of the lesson's (setup, ...) is a verbatim copy."""
    shared = section_names(name(lesson)) & section_names(lesson)
    assert "setup" in shared
    for s in shared:
        assert section(name(lesson), s) == section(lesson, s), f"snippets/exercises/{lesson}.py:{s} differs"


@pytest.mark.parametrize("lesson, ex", EXERCISE_IDS, ids=[f"{lesson}-{ex}" for lesson, ex in EXERCISE_IDS])
def test_the_answer_says_what_the_exercise_computes(lesson, ex):
    stated = claims_of(lesson, "en", ex)
    assert claims_of(lesson, "zh", ex) == stated, f"{lesson}: the two pages state different numbers for {ex}"
    assert ex in CHECKS.get(lesson, {}), f"nothing checks what the answer to {lesson} {ex} says"
    ns, _ = run(lesson, *BEFORE.get(lesson, ()), ex)
    results = CHECKS[lesson][ex](ns, stated)
    assert set(results) == set(stated), (
        f"{lesson} {ex}: the page marks {sorted(stated)}, checked {sorted(results)}"
    )
    wrong = {claim: stated[claim] for claim, ok in results.items() if not ok}
    assert not wrong, f"{lesson} {ex}: these numbers disagree with the run: {wrong}"


@pytest.mark.parametrize("lesson", [lesson for lesson in LESSONS if (EXERCISES / f"{lesson}.py").exists()])
def test_the_exercises_file_runs_as_a_script(lesson, monkeypatch):
    """`python snippets/exercises/<lesson>.py` from the repository root, run in this interpreter
    (runpy, as `python` runs a file; a fresh interpreter would import torch again, seconds per file),
    on the CPU."""
    monkeypatch.chdir(ROOT)
    out = io.StringIO()
    with contextlib.redirect_stdout(out), mock.patch("torch.cuda.is_available", return_value=False):
        runpy.run_path(str(EXERCISES / f"{lesson}.py"), run_name="__main__")
    assert out.getvalue().strip(), "the script printed nothing"
