"""Imported last by a fork server (`workshop.runner`): freeze what the server has loaded.

`gc.freeze()` moves every object alive now (the imported stack: tens of thousands of objects) out
of the garbage collector's sight. A fork then never walks them: its collections stay cheap (pytest
collects twice at exit, about 0.1 s each on an unfrozen heap) and its pages stay shared with the
server instead of being copied when the collector touches them.
"""

import gc

gc.freeze()
