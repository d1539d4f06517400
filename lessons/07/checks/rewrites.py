"""A rewrite of lesson 07's app that does exactly what it did, in other words.

Your tests must pass on it as they pass on the app as given: a test of behaviour cannot tell the
two apart, while a test that reads the source (a hash of a file, a line it expects to find) can.
Every line a seeded bug changes is rewritten here too, and every file of the app gets a comment
at its end (`workshop.graders.seeded.rewrite`): renamed locals, reordered independent arguments and
comparisons, an extracted helper, other spellings of the same constant.

This file is the grader's: your tests may not read it (they are stopped if they try).
"""

from workshop.edits import Edit

TRANSFERS = "app/services/transfers.py"
ACCOUNTS = "app/services/accounts.py"

REWRITES = [
    # services/transfers.py: comparisons turned around, a local renamed, arguments reordered.
    Edit("if source.balance < amount:", "if amount > source.balance:", TRANSFERS),
    Edit("if source.currency != target.currency:", "if target.currency != source.currency:", TRANSFERS),
    Edit("if source_id == target_id:", "if target_id == source_id:", TRANSFERS),
    Edit(
        'hashlib.sha256(f"{source_id}:{target_id}:{amount}".encode()).hexdigest()',
        'hashlib.sha256(":".join((str(source_id), str(target_id), str(amount))).encode("utf-8")).hexdigest()',
        TRANSFERS,
    ),
    Edit(
        "Entry(account_id=source.id, amount=-amount, transfer_id=transfer_id)",
        "Entry(transfer_id=transfer_id, amount=-amount, account_id=source.id)",
        TRANSFERS,
    ),
    # The lock order written without sorted(): the smaller id first, then the larger (the two differ here).
    Edit(
        "for account_id in sorted((source_id, target_id)):",
        "for account_id in (min(source_id, target_id), max(source_id, target_id)):",
        TRANSFERS,
    ),
    Edit(
        "Entry(account_id=target.id, amount=amount, transfer_id=transfer_id)",
        "Entry(transfer_id=transfer_id, amount=amount, account_id=target.id)",
        TRANSFERS,
    ),
    Edit("        locked: dict[uuid.UUID, Account] = {}\n", "        rows: dict[uuid.UUID, Account] = {}\n", TRANSFERS),
    Edit("            locked[account_id] = account\n", "            rows[account_id] = account\n", TRANSFERS),
    Edit(
        "        return locked[source_id], locked[target_id]\n",
        "        return rows[source_id], rows[target_id]\n",
        TRANSFERS,
    ),
    # services/accounts.py: the rule spelled another way, the lock taken by an extracted helper.
    Edit(
        "        if amount <= 0:\n            raise InvalidAmount(amount)\n",
        "        if not amount > 0:\n            raise InvalidAmount(amount)\n",
        ACCOUNTS,
    ),
    Edit(
        "        account = await self.accounts.get_for_update(account_id)\n"
        "        if account is None:\n"
        "            raise AccountNotFound(account_id)\n"
        "        account.balance += amount\n"
        "        await self.entries.add(Entry(account_id=account.id, amount=amount, transfer_id=None))\n"
        "        return account\n",
        "        locked = await self._locked(account_id)\n"
        "        locked.balance = locked.balance + amount\n"
        "        await self.entries.add(Entry(transfer_id=None, amount=amount, account_id=locked.id))\n"
        "        return locked\n"
        "\n"
        "    async def _locked(self, account_id: uuid.UUID) -> Account:\n"
        "        row = await self.accounts.get_for_update(account_id)\n"
        "        if row is None:\n"
        "            raise AccountNotFound(account_id)\n"
        "        return row\n",
        ACCOUNTS,
    ),
    Edit(
        "        if await self.accounts.get(account_id) is None:\n            raise AccountNotFound(account_id)\n",
        "        found = await self.accounts.get(account_id)\n        if found is None:\n"
        "            raise AccountNotFound(account_id)\n",
        ACCOUNTS,
    ),
    # services/errors.py: the same code, annotated.
    Edit('    code = "insufficient_funds"\n', '    code: str = "insufficient_funds"\n', "app/services/errors.py"),
    # schemas/accounts.py: the same constraints in another order.
    Edit(
        "Field(strict=True, gt=0, le=MAX_AMOUNT,",
        "Field(gt=0, le=MAX_AMOUNT, strict=True,",
        "app/schemas/accounts.py",
    ),
    # crud/accounts.py: offset before limit builds the same SQL; the same execution option as a mapping.
    Edit(
        ".execution_options(populate_existing=True)",
        '.execution_options(**{"populate_existing": True})',
        "app/crud/accounts.py",
    ),
    Edit(".limit(limit).offset(offset)", ".offset(offset).limit(limit)", "app/crud/accounts.py"),
    # routers: the same status as a number, the same cases in another order, the arguments reordered.
    Edit(
        '"/{account_id}/deposits",\n    status_code=status.HTTP_201_CREATED,',
        '"/{account_id}/deposits",\n    status_code=201,',
        "app/routers/v1/accounts.py",
    ),
    Edit(
        "case InsufficientFunds() | IdempotencyConflict():",
        "case IdempotencyConflict() | InsufficientFunds():",
        "app/routers/errors.py",
    ),
    Edit(
        'ErrorDetail(code="validation_error", message=f"The request is not valid. {summary}", details=problems)',
        'ErrorDetail(details=problems, code="validation_error", message=f"The request is not valid. {summary}")',
        "app/routers/errors.py",
    ),
    Edit(
        '        response.headers[REPLAYED_HEADER] = "true"\n',
        '        response.headers.update({REPLAYED_HEADER: "true"})\n',
        "app/routers/v1/transfers.py",
    ),
    Edit(
        "        source_id=body.source_id,\n"
        "        target_id=body.target_id,\n"
        "        amount=body.amount,\n"
        "        idempotency_key=idempotency_key,\n",
        "        idempotency_key=idempotency_key,\n"
        "        amount=body.amount,\n"
        "        target_id=body.target_id,\n"
        "        source_id=body.source_id,\n",
        "app/routers/v1/transfers.py",
    ),
    # schemas/transfers.py: the same configuration written as keyword arguments of a dict.
    Edit(
        'model_config = ConfigDict(extra="forbid")',
        'model_config = ConfigDict(**{"extra": "forbid"})',
        "app/schemas/transfers.py",
    ),
    # dependencies/session.py: the rollback in a handler that names the error.
    Edit(
        "        except Exception:\n            await session.rollback()\n            raise\n",
        "        except Exception as error:\n            await session.rollback()\n            raise error\n",
        "app/dependencies/session.py",
    ),
    # crud/: the same ORDER BY in two calls, offset before limit, a flush of just the new object.
    Edit(
        ".order_by(Entry.created_at.desc(), Entry.id.desc())",
        ".order_by(Entry.created_at.desc()).order_by(Entry.id.desc())",
        "app/crud/entries.py",
    ),
    Edit(
        "            .limit(limit)\n            .offset(offset)\n",
        "            .offset(offset)\n            .limit(limit)\n",
        "app/crud/entries.py",
    ),
    Edit(
        "        await self.session.flush()\n        return account\n",
        "        await self.session.flush([account])\n        return account\n",
        "app/crud/accounts.py",
    ),
]
