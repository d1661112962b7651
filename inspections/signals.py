"""Signals inspections send after their changes commit, for apps built on them (publication).

Inspections never import those apps; they connect here. Each signal is sent from
``transaction.on_commit``, so receivers see the committed rows.
"""

from django.dispatch import Signal

#: A leader approved a task's result, or approved a correction of it. Arguments: ``task``.
result_approved = Signal()
