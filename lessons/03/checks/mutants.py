"""Lesson 03's mutants: wrong solutions a reviewer would reject, each caught by the checks it names.

`uv run workshop verify 03` plants each one in a copy of the solution and proves that the named
checks fail with a `Lesson 03:` message containing `says`.
"""

from workshop.authoring.mutants import Mutant
from workshop.edits import Edit

BASE = "app/models/base.py"
ACCOUNT = "app/models/account.py"
ENTRY = "app/models/entry.py"
ENV = "migrations/env.py"
INI = "alembic.ini"
MIGRATION = "migrations/versions/0001_create_accounts_and_entries.py"

MUTANTS = [
    # --- step 2: uuid7() and the naming convention --------------------------------------------
    Mutant(
        "uuid7-is-uuid4",
        find="    milliseconds = time.time_ns() // 1_000_000\n",
        replace="    return uuid.uuid4()\n    milliseconds = time.time_ns() // 1_000_000\n",
        killed_by=["test_uuid7_makes_version_7_ids_in_time_order"],
        says="version",
        why="random UUIDs land anywhere in the primary-key index: every insert touches a different page",
    ),
    Mutant(
        "uuid7-in-seconds",
        find="    milliseconds = time.time_ns() // 1_000_000\n",
        replace="    milliseconds = time.time_ns() // 1_000_000_000\n",
        killed_by=["test_uuid7_makes_version_7_ids_in_time_order"],
        says="milliseconds",
        why="seconds are not the RFC 9562 timestamp: ids made within one second are in random order",
    ),
    Mutant(
        "uuid7-random-bits-first",
        find='    value = (milliseconds & (2**48 - 1)) << 80 | int.from_bytes(os.urandom(10), "big")\n',
        replace='    value = int.from_bytes(os.urandom(10), "big") << 48 | (milliseconds & (2**48 - 1))\n',
        killed_by=["test_uuid7_makes_version_7_ids_in_time_order"],
        says="48",
        why="the time in the low bits does not order anything: the ids are as random as UUIDv4",
    ),
    Mutant(
        "uuid7-without-variant",
        find="    value = value & ~(0x3 << 62) | 0x2 << 62  # RFC 9562 variant\n",
        replace="",
        killed_by=["test_uuid7_makes_version_7_ids_in_time_order"],
        says="variant",
        why="without the variant bits the id is not an RFC 9562 UUID; other tools misread it",
    ),
    Mutant(
        "uuid7-variant-not-cleared",
        find="value = value & ~(0x3 << 62) | 0x2 << 62",
        replace="value = value | 0x2 << 62",
        killed_by=["test_uuid7_makes_version_7_ids_in_time_order"],
        says="bit 62 keeps its random value",
        why="sets bit 63 but never clears bit 62: half of the ids carry variant 0b11 (reserved), not RFC 9562's 0b10",
    ),
    Mutant(
        "uuid7-random-module",
        find='int.from_bytes(os.urandom(10), "big")',
        replace="random.getrandbits(80)",
        also=[Edit(find="import os\nimport time\n", replace="import random\nimport time\n", path=BASE)],
        killed_by=["test_uuid7_random_bits_cannot_be_predicted"],
        says="Mersenne Twister",
        why="Mersenne Twister is predictable: ids that should be unguessable can be predicted from a few observed ones",
    ),
    Mutant(
        "no-naming-convention",
        find="    metadata = MetaData(naming_convention=NAMING_CONVENTION)\n",
        replace="    metadata = MetaData()\n",
        killed_by=["test_the_naming_convention_names_every_constraint"],
        says="naming convention",
        why="PostgreSQL then invents the names, and a later migration cannot know what to drop",
    ),
    # --- step 3: Account -------------------------------------------------------------------------
    Mutant(
        "balance-as-numeric",
        find='    balance: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")\n',
        replace='    balance: Mapped[int] = mapped_column(Numeric(12, 2), default=0, server_default="0")\n',
        also=[
            Edit(
                find="from sqlalchemy import BigInteger, CheckConstraint, DateTime, String, func",
                replace="from sqlalchemy import BigInteger, CheckConstraint, DateTime, Numeric, String, func",
                path=ACCOUNT,
            )
        ],
        killed_by=["test_accounts_has_the_columns_of_the_contract"],
        says="BIGINT",
        why="money becomes Decimal with two fixed decimals: minor units are integers, in every layer",
    ),
    Mutant(
        "balance-without-server-default",
        find='    balance: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")\n',
        replace="    balance: Mapped[int] = mapped_column(BigInteger, default=0)\n",
        killed_by=["test_accounts_has_the_columns_of_the_contract"],
        says="server default",
        why="a row inserted by psql, a script or another service has no balance at all",
    ),
    Mutant(
        "owner-nullable",
        find="    owner: Mapped[str] = mapped_column(String(100))\n",
        replace="    owner: Mapped[str | None] = mapped_column(String(100))\n",
        killed_by=["test_accounts_has_the_columns_of_the_contract"],
        says="NULL",
        why="an account without an owner is money nobody can claim",
    ),
    Mutant(
        "id-default-called-once",
        find="    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid7)\n",
        replace="    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid7())\n",
        path=ACCOUNT,
        killed_by=["test_a_new_account_gets_a_uuid7_id_and_a_zero_balance"],
        says="default=uuid7",
        why="uuid7() is called once, at import: every account gets the same id and the second insert fails",
    ),
    Mutant(
        "id-default-uuid4",
        find="    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid7)\n",
        replace="    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)\n",
        path=ACCOUNT,
        killed_by=["test_a_new_account_gets_a_uuid7_id_and_a_zero_balance"],
        says="version-7",
        why="random ids fragment the primary-key index, the very thing uuid7() was written for",
    ),
    Mutant(
        "model-balance-must-be-positive",
        find='        CheckConstraint("balance >= 0", name="balance_not_negative"),\n',
        replace='        CheckConstraint("balance > 0", name="balance_not_negative"),\n',
        killed_by=["test_the_models_rules_accept_and_refuse_the_right_rows"],
        says="balance 0",
        why="a new account (balance 0) and a transfer of a whole balance would both be refused",
    ),
    # --- step 4: Entry ---------------------------------------------------------------------------
    Mutant(
        "entries-load-lazily",
        find='    entries: Mapped[list["Entry"]] = relationship(back_populates="account", lazy="raise")\n',
        replace='    entries: Mapped[list["Entry"]] = relationship(back_populates="account")\n',
        killed_by=["test_relationships_refuse_to_load_lazily"],
        says='lazy="raise"',
        why="account.entries runs a hidden query: MissingGreenlet at some random line under asyncio",
    ),
    Mutant(
        "check-constraint-without-a-name",
        find='CheckConstraint("amount <> 0", name="amount_not_zero")',
        replace='CheckConstraint("amount <> 0")',
        killed_by=["test_entries_has_the_columns_of_the_contract"],
        says="name=",
        why="an unnamed CHECK cannot follow the ck_ convention: SQLAlchemy refuses to build its DDL",
    ),
    Mutant(
        "transfer-id-without-index",
        find="    transfer_id: Mapped[uuid.UUID | None] = mapped_column(index=True)\n",
        replace="    transfer_id: Mapped[uuid.UUID | None]\n",
        killed_by=["test_entries_has_the_columns_of_the_contract"],
        says="ix_entries_transfer_id",
        why="finding both entries of a transfer scans the whole table",
    ),
    Mutant(
        "check-named-in-full-by-hand",
        find='CheckConstraint("balance >= 0", name="balance_not_negative")',
        replace='CheckConstraint("balance >= 0", name="ck_accounts_balance_not_negative")',
        path=ACCOUNT,
        killed_by=["test_the_models_rules_accept_and_refuse_the_right_rows"],
        says="not by ck_accounts_balance_not_negative",
        why="the convention adds ck_accounts_ again: the model's constraint is ck_accounts_ck_accounts_…, not the "
        "migration's, and a later migration drops the wrong name",
    ),
    Mutant(
        "account-loads-lazily",
        find='    account: Mapped["Account"] = relationship(back_populates="entries", lazy="raise")\n',
        replace='    account: Mapped["Account"] = relationship(back_populates="entries")\n',
        killed_by=["test_relationships_refuse_to_load_lazily"],
        says='lazy="raise"',
        why="entry.account runs a hidden query: MissingGreenlet at some random line under asyncio",
    ),
    Mutant(
        "amount-as-integer",
        find="    amount: Mapped[int] = mapped_column(BigInteger)\n",
        replace="    amount: Mapped[int]\n",
        killed_by=["test_entries_has_the_columns_of_the_contract"],
        says="BIGINT",
        why="INTEGER stops at 21 million euros in cents",
    ),
    Mutant(
        "model-entries-cascade",
        find='ForeignKey("accounts.id", ondelete="RESTRICT")',
        replace='ForeignKey("accounts.id", ondelete="CASCADE")',
        killed_by=["test_entries_has_the_columns_of_the_contract"],
        says="CASCADE",
        why="deleting an account would delete its money history",
    ),
    Mutant(
        "model-amount-must-be-positive",
        find='CheckConstraint("amount <> 0", name="amount_not_zero")',
        replace='CheckConstraint("amount > 0", name="amount_not_zero")',
        path=ENTRY,
        killed_by=["test_the_models_rules_accept_and_refuse_the_right_rows"],
        says="-500",
        why="money can then never leave an account: the outgoing entry of a transfer is negative",
    ),
    # --- step 5: alembic.ini and env.py ------------------------------------------------------------
    Mutant(
        "url-in-alembic-ini",
        find="path_separator = os\n",
        replace="path_separator = os\nsqlalchemy.url = postgresql+asyncpg://ledger:ledger@localhost:5432/ledger\n",
        also=[
            Edit(
                find="    return get_settings().database_url\n",
                replace='    return config.get_main_option("sqlalchemy.url")  # type: ignore[return-value]\n',
                path=ENV,
            )
        ],
        killed_by=["test_alembic_ini_finds_the_migrations_and_holds_no_url"],
        says="sqlalchemy.url",
        why="a password lands in git, and Alembic migrates another database than the app uses",
    ),
    Mutant(
        "env-reads-url-from-the-ini",
        find="    return get_settings().database_url\n",
        replace='    return config.get_main_option("sqlalchemy.url")  # type: ignore[return-value]\n',
        killed_by=["test_upgrade_head_on_an_empty_database_records_the_head_revision"],
        says="get_settings()",
        why="Alembic does not read LEDGER_DATABASE_URL: it migrates no database, or another one",
    ),
    Mutant(
        "script-location-relative",
        find="script_location = %(here)s/migrations\n",
        replace="script_location = migrations\n",
        killed_by=["test_alembic_ini_finds_the_migrations_and_holds_no_url"],
        says="%(here)s",
        why="alembic then works only when started from lessons/03 (not from CI, a container or the repo root)",
    ),
    Mutant(
        "target-metadata-none",
        find="    return Base.metadata\n",
        replace="    return None  # type: ignore[return-value]\n",
        killed_by=["test_alembic_check_finds_no_change_the_migrations_do_not_make"],
        says="target_metadata",
        why="autogenerate and `alembic check` have nothing to compare: drift between models and schema goes unseen",
    ),
    Mutant(
        "target-metadata-empty",
        find="    return Base.metadata\n",
        replace="    return MetaData()\n",
        killed_by=["test_alembic_check_finds_no_change_the_migrations_do_not_make"],
        says="target_metadata",
        why="autogenerate compares against no tables and drafts a migration that drops them all",
    ),
    Mutant(
        "compare-type-off",
        find="context.configure(connection=connection, target_metadata=target_metadata(), compare_type=True)",
        replace="context.configure(connection=connection, target_metadata=target_metadata(), compare_type=False)",
        killed_by=["test_alembic_check_notices_a_column_whose_type_differs"],
        says="compare_type",
        why="a column whose type drifted from the model (VARCHAR(200) vs String(100)) goes unnoticed",
    ),
    Mutant(
        "no-transaction-online",
        find=(
            "    # PostgreSQL's DDL is transactional: a failing migration leaves the schema as it was.\n"
            "    with context.begin_transaction():\n        context.run_migrations()\n"
        ),
        replace="    context.run_migrations()\n",
        killed_by=["test_upgrade_head_on_an_empty_database_records_the_head_revision"],
        says="begin_transaction",
        why="nothing is committed: `alembic upgrade head` reports success and the database stays empty",
    ),
    Mutant(
        "env-swallows-migration-errors",
        find=(
            "    # PostgreSQL's DDL is transactional: a failing migration leaves the schema as it was.\n"
            "    with context.begin_transaction():\n        context.run_migrations()\n"
        ),
        replace=(
            "    with context.begin_transaction():\n        try:\n            context.run_migrations()\n"
            "        except Exception as error:  # log it, and keep the deployment going\n"
            '            print(f"migration failed: {error}")\n'
        ),
        killed_by=["test_a_failing_migration_names_its_file_and_changes_nothing"],
        says="swallow",
        why="a failed migration reports success: the deployment goes on with the old schema",
    ),
    Mutant(
        "offline-mode-connects",
        find=(
            "    context.configure(\n        url=database_url(),\n        target_metadata=target_metadata(),\n"
            '        literal_binds=True,\n        dialect_opts={"paramstyle": "named"},\n    )\n'
            "    with context.begin_transaction():\n        context.run_migrations()\n"
        ),
        replace="    asyncio.run(run_async_migrations())\n",
        killed_by=["test_offline_mode_prints_the_sql_of_the_migrations"],
        says="offline",
        why="`alembic upgrade head --sql` runs the migrations against the database instead of printing them",
    ),
    Mutant(
        "offline-without-literal-binds",
        find="""        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
""",
        replace="",
        killed_by=["test_offline_mode_prints_the_sql_of_the_migrations"],
        says="placeholders",
        why="--sql output has bind placeholders instead of values: the DBA cannot run it",
    ),
    # --- step 6: the migration ------------------------------------------------------------------------
    Mutant(
        "migration-uses-create-all",
        find='    op.create_table(\n        "accounts",\n',
        replace=(
            "    from app.models import Base\n\n"
            "    Base.metadata.create_all(op.get_bind())\n    return\n"
            '    op.create_table(\n        "accounts",\n'
        ),
        killed_by=["test_the_migration_spells_out_its_tables_without_the_models"],
        says="app.models",
        why="the migration builds whatever the models say today: next month it creates next month's tables",
    ),
    Mutant(
        "migration-balance-float",
        find='        sa.Column("balance", sa.BigInteger(), server_default="0", nullable=False),\n',
        replace='        sa.Column("balance", sa.Float(), server_default="0", nullable=False),\n',
        killed_by=["test_the_migrated_schema_matches_the_models"],
        says="balance",
        why="the database stores money as a float: 0.1 + 0.2 is not 0.3",
    ),
    Mutant(
        "migration-balance-without-server-default",
        find='sa.Column("balance", sa.BigInteger(), server_default="0", nullable=False)',
        replace='sa.Column("balance", sa.BigInteger(), nullable=False)',
        killed_by=["test_the_migrated_schema_matches_the_models"],
        says="server default",
        why="the table has no DEFAULT 0: any writer but the ORM (psql, a script) must give a balance",
    ),
    Mutant(
        "migration-forgets-an-index",
        find='    op.create_index(op.f("ix_entries_transfer_id"), "entries", ["transfer_id"], unique=False)\n',
        replace="",
        killed_by=["test_the_migrated_schema_matches_the_models"],
        says="ix_entries_transfer_id",
        why="finding both entries of a transfer scans the whole table",
    ),
    Mutant(
        "migration-without-balance-check",
        find='        sa.CheckConstraint("balance >= 0", name=op.f("ck_accounts_balance_not_negative")),\n',
        replace="",
        killed_by=["test_the_database_refuses_a_negative_balance"],
        says="balance -1",
        why="the model says balance >= 0, but only the database can hold that rule for every writer",
    ),
    Mutant(
        "migration-balance-must-be-positive",
        find='sa.CheckConstraint("balance >= 0", name=op.f("ck_accounts_balance_not_negative"))',
        replace='sa.CheckConstraint("balance > 0", name=op.f("ck_accounts_balance_not_negative"))',
        killed_by=["test_the_database_enforces_the_rules_of_the_models"],
        says="balance 0",
        why="a new account (balance 0) cannot even be opened",
    ),
    Mutant(
        "migration-without-amount-check",
        find='        sa.CheckConstraint("amount <> 0", name=op.f("ck_entries_amount_not_zero")),\n',
        replace="",
        killed_by=["test_the_database_enforces_the_rules_of_the_models"],
        says="amount 0",
        why="an entry of 0 moves nothing and hides a bug in the transfer code",
    ),
    Mutant(
        "migration-postgres-style-names",
        find='name=op.f("ck_accounts_currency_is_iso_code")',
        replace='name=op.f("accounts_currency_check")',
        killed_by=["test_the_database_names_constraints_by_the_convention"],
        says="ck_accounts_currency_is_iso_code",
        why="the next migration drops the constraint by its convention name and fails on this database",
    ),
    Mutant(
        "migration-entries-cascade",
        find='name=op.f("fk_entries_account_id_accounts"), ondelete="RESTRICT"',
        replace='name=op.f("fk_entries_account_id_accounts"), ondelete="CASCADE"',
        killed_by=["test_deleting_an_account_with_entries_is_refused"],
        says="CASCADE",
        why="one DELETE of an account wipes its money history",
    ),
    Mutant(
        "downgrade-does-nothing",
        find='    op.drop_index(op.f("ix_entries_transfer_id"), table_name="entries")\n',
        replace="    return\n",
        killed_by=["test_the_migration_goes_down_to_base_and_up_again"],
        says="still there",
        why="a rollback of the deployment leaves the tables behind, and the next upgrade fails",
    ),
    Mutant(
        "downgrade-in-the-wrong-order",
        find='    op.drop_table("entries")\n    op.drop_table("accounts")\n',
        replace='    op.drop_table("accounts")\n    op.drop_table("entries")\n',
        killed_by=["test_the_migration_goes_down_to_base_and_up_again"],
        says="reverse order",
        why="accounts cannot go while entries still point at it: the downgrade fails halfway",
    ),
]

# The layer rule (test_the_layers.py) and the stack's own bar (test_code_quality.py).
MUTANTS += [
    Mutant(
        "model-reads-the-settings",
        path="app/models/account.py",
        find="    currency: Mapped[str] = mapped_column(String(3))\n",
        replace="    currency: Mapped[str] = mapped_column(String(3), default=lambda: get_settings().app_name[:3].upper())\n",
        also=[
            Edit(
                "from app.models.base import Base, uuid7\n",
                "from app.core.config import get_settings\nfrom app.models.base import Base, uuid7\n",
                "app/models/account.py",
            )
        ],
        killed_by=["test_the_models_import_no_other_layer"],
        says="models import no other layer",
        why="a table that reads the settings cannot be imported by Alembic or a script without a configured app",
    ),
    Mutant(
        "model-imports-a-schema",
        path="app/models/entry.py",
        find="from app.models.base import Base, uuid7\n",
        replace="from app.models.base import Base, uuid7\nfrom app.schemas import __doc__ as _layers  # noqa: F401\n",
        killed_by=["test_the_models_import_no_other_layer"],
        says="app.schemas",
        why="the DTOs sit above the tables; a model that imports one ties the database to the API's shape",
    ),
    Mutant(
        "untyped-id-helper",
        path="app/models/base.py",
        find="def uuid7() -> uuid.UUID:\n",
        replace="def now_ms():\n    return time.time_ns() // 1_000_000\n\n\ndef uuid7() -> uuid.UUID:\n",
        killed_by=["test_your_code_is_ruff_and_mypy_strict_clean"],
        says="missing a return type annotation",
        why="mypy --strict refuses an untyped function: its callers get no checking at all",
    ),
    Mutant(
        "unused-import-left-behind",
        path="app/models/entry.py",
        find="from sqlalchemy import BigInteger, CheckConstraint, DateTime, ForeignKey, func\n",
        replace="from sqlalchemy import BigInteger, CheckConstraint, DateTime, ForeignKey, Integer, func\n",
        killed_by=["test_your_code_is_ruff_and_mypy_strict_clean"],
        says="F401",
        why="an import nothing uses is dead code ruff reports on every run",
    ),
]
