"""Signals the lottery sends after its changes commit, for apps built on it (inspections).

The lottery never imports those apps; they connect here. Each signal is sent from
``transaction.on_commit``, so receivers see the committed rows.
"""

from django.dispatch import Signal

#: A draw was executed. Arguments: ``draw`` (the executed ``Draw``).
draw_executed = Signal()

#: A leader approved a substitution. Arguments: ``substitution`` (the ``Substitution``).
substitution_approved = Signal()
