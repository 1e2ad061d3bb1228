"""Template variables checked before a run: a misspelled ``{{ customer.fcm_tokn }}`` is a file:line problem.

Known names are the actors and their attributes (what :meth:`Actor.view` offers),
the names earlier steps ``save``, the always-present ``faker``, ``seed``,
``target``, ``now`` (the target's clock) and ``secrets``, and ``i`` inside a
``repeat``.  What lies below a saved name is only known at run time, so only its
root is checked; below an actor, the attribute is checked too, and below
``secrets`` the secret's name.  A miss names the closest known spelling.
"""

from __future__ import annotations

from collections.abc import Iterable
from difflib import get_close_matches

from halo_sim.scenario.secrets import SECRET_NAMES

ALWAYS_DEFINED = frozenset({"faker", "seed", "target", "now", "secrets"})
# Must match Actor.view(); tests/scenario/test_variables.py holds the two together.
ACTOR_FIELDS = ("id", "phone", "token", "fcm_token", "display_name", "name", "role", "password", "foreground")


def unknown_variables(paths: Iterable[str], actors: Iterable[str], saved: Iterable[str]) -> list[str]:
    """One message per template path that names nothing the run will have at that step."""
    actor_names, known = set(actors), set(ALWAYS_DEFINED) | set(actors) | set(saved)
    problems = []
    for path in sorted(paths):
        head, _, rest = path.partition(".")
        field = rest.split(".")[0]
        if head not in known:
            problems.append(f"undefined variable {{{{ {path} }}}} (not saved by an earlier step){_hint(head, known)}")
        elif head in actor_names and rest and field not in ACTOR_FIELDS:
            guess = _hint(field, ACTOR_FIELDS, f"{head}.") or f" (an actor has: {', '.join(ACTOR_FIELDS)})"
            problems.append(f"unknown variable {head}.{field}{guess}")
        elif head == "secrets" and field not in SECRET_NAMES:
            guess = _hint(field, SECRET_NAMES, "secrets.") or f" (secrets: {', '.join(SECRET_NAMES)})"
            problems.append(f"unknown secret {{{{ {path} }}}}{guess}")
    return problems


def _hint(name: str, known: Iterable[str], prefix: str = "") -> str:
    close = get_close_matches(name, sorted(known), n=1, cutoff=0.6)
    return f"; did you mean {prefix}{close[0]}?" if close else ""
