"""The control plane: what no real user pool offers (clock, mailbox, faults, keys, minting, events).

* ``api``: :class:`Control`, the control plane over an in-process engine;
* ``checks``: argument checks and :class:`ControlError`, shared with the HTTP faces;
* ``client``: :class:`RemoteControl` (the same over ``/_harness/``) and the per-concern views;
* ``face`` and ``fake_idps_face``: the ``/_harness/`` HTTP faces, installed by :mod:`harness.server`.
"""

from __future__ import annotations

from harness.control.api import SIGN_WITH_HELP, Control
from harness.control.checks import ControlError
from harness.control.client import ClockControl, FaultControl, MailboxControl, RemoteControl

__all__ = ["ClockControl", "Control", "ControlError", "FaultControl", "MailboxControl", "RemoteControl",
           "SIGN_WITH_HELP"]
