"""`python -m workshop.classroom.sender`: post the queued reports once, then exit.

Started detached by `client.after_run` at the end of a learner's run; nobody waits for it. It
reads the membership and the queue of the checkout named by WORKSHOP_ROOT (the token never
travels on a command line), and records why it stopped, if it did, in `.workshop/outbox/last-error.txt`.
"""

from __future__ import annotations

from workshop.classroom import client

if __name__ == "__main__":
    client.deliver()
