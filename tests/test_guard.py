"""Forbidden calls fail their kata with the call's name, however they are reached.

A synthetic softmax kata forbids torch's softmax; each way of sneaking it in is one solution.
The test file calls the same function as its oracle, which must never be blocked.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from dojo.catalog import Kata
from dojo.frames import Origins
from dojo.guard import Guard, resolve, static_violations
from tests.grading import Repo

TORCH_TOML = """
difficulty = "E"
[guard]
forbidden = ["torch.nn.functional.softmax", "torch.softmax", "torch.Tensor.softmax",
             "torch.nn.Softmax"]
"""
TORCH_TEST = """
import torch
import torch.nn.functional as F

def test_softmax_matches_torch(solution):
    x = torch.randn(3, 4, generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(solution.softmax(x), F.softmax(x, dim=-1))
"""
BY_HAND = """
def softmax(x):
    e = (x - x.max(-1, keepdim=True).values).exp()
    return e / e.sum(-1, keepdim=True)
"""
SNEAKY = {
    "direct": "import torch.nn.functional as F\n\ndef softmax(x):\n    return F.softmax(x, -1)\n",
    "aliased": "from torch.nn.functional import softmax as s\n\n"
    "def softmax(x):\n    return s(x, -1)\n",
    "getattr": "import importlib\n\ndef softmax(x):\n"
    "    f = importlib.import_module('torch.nn.' + 'functional')\n"
    "    return getattr(f, 'soft' + 'max')(x, -1)\n",
    "aten": "import torch\n\ndef softmax(x):\n"
    "    return getattr(torch.ops.aten, '_soft' + 'max')(x, -1, False)\n",
    "method": "def softmax(x):\n    return getattr(x, 'soft' + 'max')(-1)\n",
    "module": "import torch\n\ndef softmax(x):\n"
    "    return getattr(torch.nn, 'Soft' + 'max')(dim=-1)(x)\n",
    "swallowed": "import torch\n\ndef softmax(x):\n    try:\n"
    "        return getattr(torch, 'soft' + 'max')(x, -1)\n    except BaseException:\n"
    "        pass\n" + BY_HAND.replace("def softmax(x):\n", ""),
}

NUMPY_TOML = 'difficulty = "E"\n[guard]\nnumpy_only = ["*"]\n'
NUMPY_TEST = """
import numpy as np

def test_softmax_matches_the_formula(solution):
    x = np.random.default_rng(0).standard_normal((3, 4))
    e = np.exp(x - x.max(-1, keepdims=True))
    np.testing.assert_allclose(solution.softmax(x), e / e.sum(-1, keepdims=True))
"""
NUMPY_BY_HAND = """
import numpy as np

def softmax(x):
    '''Do not use torch.softmax here.'''
    e = np.exp(x - x.max(-1, keepdims=True))  # torch.softmax would be forbidden
    return e / e.sum(-1, keepdims=True)
"""
NUMPY_CLASS_TEST = """
import numpy as np

def test_the_model_softmaxes(solution):
    x = np.random.default_rng(0).standard_normal((3, 4))
    e = np.exp(x - x.max(-1, keepdims=True))
    np.testing.assert_allclose(solution.Model().forward(x), e / e.sum(-1, keepdims=True))
"""
NUMPY_CLASS_SNEAKY = """
class Model:
    def forward(self, x):
        t = __import__('to' + 'rch')
        return t.softmax(t.as_tensor(x), -1).numpy()
"""
NUMPY_SNEAKY = {
    "import": "import numpy as np\nimport torch\n\ndef softmax(x):\n"
    "    return torch.softmax(torch.as_tensor(x), -1).numpy()\n",
    "dunder": "def softmax(x):\n    t = __import__('to' + 'rch')\n"
    "    return t.as_tensor(x).exp().div(t.as_tensor(x).exp().sum(-1, keepdim=True)).numpy()\n",
}


LINALG_TOML = 'difficulty = "E"\n[guard]\nforbidden = ["numpy.linalg.inv"]\nnumpy_only = ["*"]\n'
LINALG_TEST = """
import numpy as np

def test_inverse_matches_numpy(solution):
    a = np.array([[2.0, 1.0], [1.0, 3.0]])
    np.testing.assert_allclose(solution.inverse(a), np.linalg.inv(a))
"""
LINALG_SNEAKY = {
    "direct": "import numpy as np\n\ndef inverse(a):\n    return np.linalg.inv(a)\n",
    "from": "from numpy.linalg import inv\n\ndef inverse(a):\n    return inv(a)\n",
    "getattr": "import numpy as np\n\ndef inverse(a):\n"
    "    return getattr(np.linalg, 'in' + 'v')(a)\n",
}
LINALG_BY_HAND = """
import numpy as np

def inverse(a):
    (p, q), (r, s) = a
    return np.array([[s, -q], [-r, p]]) / (p * s - q * r)
"""


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    katas = {f"t_{name}": (TORCH_TOML, TORCH_TEST) for name in [*SNEAKY, "by_hand"]}
    katas |= {f"n_{name}": (NUMPY_TOML, NUMPY_TEST) for name in [*NUMPY_SNEAKY, "by_hand"]}
    katas |= {f"l_{name}": (LINALG_TOML, LINALG_TEST) for name in [*LINALG_SNEAKY, "by_hand"]}
    katas["n_class"] = (NUMPY_TOML, NUMPY_CLASS_TEST)
    repo = Repo(tmp_path_factory.mktemp("guard"), katas)
    solutions = {f"t_{name}": source for name, source in SNEAKY.items()}
    solutions |= {f"n_{name}": source for name, source in NUMPY_SNEAKY.items()}
    solutions |= {f"l_{name}": source for name, source in LINALG_SNEAKY.items()}
    solutions["n_class"] = NUMPY_CLASS_SNEAKY
    solutions |= {"t_by_hand": BY_HAND, "n_by_hand": NUMPY_BY_HAND, "l_by_hand": LINALG_BY_HAND}
    repo.grade("--impl=sol", solutions=solutions)
    return repo.report()["katas"]


@pytest.mark.parametrize("way", list(SNEAKY))
def test_a_forbidden_call_fails_its_kata_with_the_calls_name(graded, way):
    entry = graded[f"t_{way}"]
    assert entry["status"] == "forbidden", entry
    assert "softmax" in entry["message"].lower(), entry


def test_the_tests_own_oracle_calls_are_not_blocked(graded):
    assert graded["t_by_hand"]["status"] == "solved", graded["t_by_hand"]


@pytest.mark.parametrize("way", [*NUMPY_SNEAKY, "class"])
def test_a_numpy_kata_that_uses_torch_is_caught(graded, way):
    entry = graded[f"n_{way}"]
    assert entry["status"] == "forbidden", entry
    assert "torch" in entry["message"], entry


@pytest.mark.parametrize("way", list(LINALG_SNEAKY))
def test_a_forbidden_numpy_function_is_caught_however_it_is_reached(graded, way):
    entry = graded[f"l_{way}"]
    assert entry["status"] == "forbidden", entry
    assert "numpy.linalg.inv" in entry["message"], entry


def test_the_tests_own_numpy_oracle_is_not_blocked(graded):
    assert graded["l_by_hand"]["status"] == "solved", graded["l_by_hand"]


def test_a_forbidden_name_in_a_docstring_or_comment_is_no_call(graded):
    assert graded["n_by_hand"]["status"] == "solved", graded["n_by_hand"]


def _kata(forbidden=(), numpy_only=()) -> Kata:
    return Kata("k", None, "E", 5, (), tuple(forbidden), tuple(numpy_only), 20.0)


@pytest.mark.parametrize(
    "source",
    [
        "import torch\ntorch.nn.functional.softmax(x)",
        "import torch.nn.functional as F\nF.softmax(x)",
        "from torch.nn import functional\nfunctional.softmax(x)",
        "from torch import nn\nnn.functional.softmax(x)",
        "from torch.nn.functional import softmax\n",
        "from torch.nn.functional import softmax as sm\nsm(x)",
    ],
)
def test_the_static_scan_resolves_imports_and_aliases(source):
    found = static_violations(source, _kata(["torch.nn.functional.softmax"]))
    assert found and all("torch.nn.functional.softmax" in f for f in found)


def test_the_static_scan_reports_the_line(source="x = 1\nimport torch\ntorch.softmax(x)\n"):
    assert static_violations(source, _kata(["torch.softmax"])) == ["line 3: torch.softmax"]


def test_the_static_scan_matches_globs_in_the_last_part():
    source = "import torch.nn.functional as F\nF.binary_cross_entropy_with_logits(a, b)"
    assert static_violations(source, _kata(["torch.nn.functional.binary_cross_entropy*"]))


def test_the_static_scan_ignores_strings_comments_and_other_names():
    source = '"""torch.softmax"""\n# torch.softmax(x)\nimport numpy as np\nnp.softmax = 1\n'
    assert static_violations(source, _kata(["torch.softmax"], ["*"])) == []


def test_a_forbidden_module_forbids_everything_in_it():
    source = "import scipy.special as sp\nsp.softmax(x)\nfrom sklearn.cluster import KMeans\n"
    found = static_violations(source, _kata(["scipy.special", "sklearn"]))
    assert sorted(found) == ["line 1: scipy.special", "line 2: scipy.special", "line 3: sklearn"]


def test_a_forbidden_top_level_module_resolves_or_is_absent():
    assert resolve("numpy")[0][2] is np
    assert resolve("no_such_library_here") == []
    assert Guard(_kata(["sklearn", "numpy.linalg.inv"]), Origins(Path("."))).violations == []
