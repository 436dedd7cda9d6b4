"""Where each user's files live, and the one rule that keeps a user to them.

Every user has one folder, `DATA_DIR/users/<digest>`, with named sub-folders: `uploads`, `exports`,
`outputs`, `runs` (what a GPT Academic plugin is handed) and `logs`. The folder is named by a hash of
the user, so no user name can reach outside it. A path is accepted for a user only when `inside` says
it lies in that user's own folder.

`toolbox`, `webui` and `crazy_functions` import this module; it imports none of them.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from request_llms.config_loader import data_dir

__all__ = ["data_dir", "inside", "user_digest", "user_dir", "user_home", "users_root"]


def users_root(config) -> Path:
    """The folder that holds every user's folder."""
    return data_dir(config) / "users"


def user_digest(user: str) -> str:
    """The name of a user's folders: a hash, so no user name can reach outside them."""
    return hashlib.sha256(user.encode("utf-8")).hexdigest()[:24]


def user_home(config, user: str) -> Path:
    """The folder that holds all of one user's folders."""
    return users_root(config) / user_digest(user)


def user_dir(config, user: str, part: str) -> Path:
    """`uploads`, `exports`, `outputs`, `runs` (what a GPT Academic plugin is handed) or `logs` of one user, made if needed."""
    path = user_home(config, user) / part
    path.mkdir(parents=True, exist_ok=True)
    return path


def inside(path: Path | str, folder: Path | str, *, strictly: bool = False) -> bool:
    """Whether `path` lies in `folder` once links and `..` are resolved: the rule that keeps a user to their own folder.

    A link pointing out of `folder`, or a `..` climbing out of it, is outside. With `strictly`, `folder`
    itself does not count. A path that cannot be resolved counts as outside.
    """
    try:
        path, folder = Path(path).resolve(), Path(folder).resolve()
    except (OSError, ValueError, TypeError, RuntimeError):  # RuntimeError: a loop of links (Python < 3.13)
        return False
    return path.is_relative_to(folder) and not (strictly and path == folder)
