"""Wrong solutions of lesson 09 that its checks must catch (`uv run workshop verify 09`).

Each is one mistake a reviewer would send back: the learner who is almost right, the one in a
hurry, the one who copied a tutorial from 2019, the one gaming the grader. The checks must fail on
each with a `Lesson 09:` message that names it.
"""

from workshop.authoring.mutants import Mutant
from workshop.edits import Edit

MIGRATION = "migrations/versions/0003_users.py"
USER_MODEL = "app/models/user.py"
ACCOUNT_MODEL = "app/models/account.py"
SECURITY = "app/core/security.py"
USER_REPOSITORY = "app/crud/users.py"
ACCOUNT_REPOSITORY = "app/crud/accounts.py"
USER_SERVICE = "app/services/users.py"
ACCOUNT_SERVICE = "app/services/accounts.py"
TRANSFER_SERVICE = "app/services/transfers.py"
SERVICE_ERRORS = "app/services/errors.py"
USER_SCHEMAS = "app/schemas/users.py"
ERRORS = "app/routers/errors.py"
AUTH_ROUTER = "app/routers/v1/auth.py"
USERS_ROUTER = "app/routers/v1/users.py"
AUTH_DEPENDENCY = "app/dependencies/auth.py"

NOT_NULL_NOW = """    op.alter_column("accounts", "user_id", nullable=False)
"""
LEGACY_USER = """    op.execute(
        sa.text(
            "INSERT INTO users (id, email, password_hash) "
            "SELECT gen_random_uuid(), :email, :locked WHERE EXISTS (SELECT 1 FROM accounts)"
        ).bindparams(email=LEGACY_EMAIL, locked=LOCKED)
    )
    op.execute(
        sa.text("UPDATE accounts SET user_id = (SELECT id FROM users WHERE email = :email)").bindparams(
            email=LEGACY_EMAIL
        )
    )
"""
DOWNGRADE = """    op.drop_constraint(op.f("fk_accounts_user_id_users"), "accounts", type_="foreignkey")
    op.drop_index(op.f("ix_accounts_user_id"), table_name="accounts")
    op.drop_column("accounts", "user_id")
    op.drop_index("uq_users_email_lower", table_name="users")
    op.drop_table("users")
"""
FOREIGN_KEY = """    op.create_foreign_key(
        op.f("fk_accounts_user_id_users"), "accounts", "users", ["user_id"], ["id"], ondelete="RESTRICT"
    )
"""
EMAIL_INDEX = """    op.create_index("uq_users_email_lower", "users", [sa.literal_column("lower(email)")], unique=True)
"""

STEP_1 = [
    Mutant(
        "user-id-not-null-before-the-backfill",
        path=MIGRATION,
        find='    op.add_column("accounts", sa.Column("user_id", sa.Uuid(), nullable=True))\n',
        replace='    op.add_column("accounts", sa.Column("user_id", sa.Uuid(), nullable=False))\n',
        killed_by=[
            "test_the_migration_keeps_the_accounts_that_were_there",
            "test_the_migration_goes_down_and_up_again_with_data_in_it",
        ],
        says="failed on a database that holds accounts",
        why="autogenerate's draft as it came: fine on the developer's empty database, fails on production's rows",
    ),
    Mutant(
        "upgrade-deletes-the-old-accounts",
        path=MIGRATION,
        find=LEGACY_USER,
        replace='    op.execute("DELETE FROM entries")\n    op.execute("DELETE FROM accounts")\n',
        killed_by=["test_the_migration_keeps_the_accounts_that_were_there"],
        says="delete nothing",
        why="the accounts nobody owns are deleted, and the money in them with them",
    ),
    Mutant(
        "downgrade-drops-users-first",
        path=MIGRATION,
        find=DOWNGRADE,
        replace="""    op.drop_index("uq_users_email_lower", table_name="users")
    op.drop_table("users")
    op.drop_constraint(op.f("fk_accounts_user_id_users"), "accounts", type_="foreignkey")
    op.drop_index(op.f("ix_accounts_user_id"), table_name="accounts")
    op.drop_column("accounts", "user_id")
""",
        killed_by=["test_the_migration_goes_down_and_up_again_with_data_in_it"],
        says="`alembic downgrade 0002` failed",
        why="users cannot go while accounts still point at it: the downgrade fails halfway, in an outage",
    ),
    Mutant(
        "downgrade-keeps-the-column",
        path=MIGRATION,
        find='    op.drop_column("accounts", "user_id")\n',
        replace="",
        killed_by=["test_the_migration_goes_down_and_up_again_with_data_in_it"],
        says="accounts still has user_id",
        why="the schema stays ahead of its revision: the next upgrade fails on a column that is already there",
    ),
    Mutant(
        "downgrade-deletes-the-owned-accounts",
        path=MIGRATION,
        find='    op.drop_column("accounts", "user_id")\n',
        replace=(
            '    op.execute("DELETE FROM entries WHERE account_id IN (SELECT id FROM accounts WHERE user_id IS NOT NULL)")\n'
            '    op.execute("DELETE FROM accounts WHERE user_id IS NOT NULL")\n'
            '    op.drop_column("accounts", "user_id")\n'
        ),
        killed_by=["test_the_migration_goes_down_and_up_again_with_data_in_it"],
        says="never the money",
        why="a downgrade that cleans up what the old schema cannot say deletes every account a user opened",
    ),
    Mutant(
        "emails-unique-case-sensitively",
        path=USER_MODEL,
        find='Index("uq_users_email_lower", func.lower(User.email), unique=True)',
        replace='Index("uq_users_email_lower", User.email, unique=True)',
        also=[
            Edit(
                EMAIL_INDEX,
                '    op.create_index("uq_users_email_lower", "users", ["email"], unique=True)\n',
                MIGRATION,
            ),
        ],
        killed_by=[
            "test_the_model_makes_emails_unique_whatever_their_case",
            "test_the_database_refuses_one_email_twice_in_another_case",
        ],
        says="lower(email)",
        why="Ada@Example.com and ada@example.com become two users of one mailbox",
    ),
    Mutant(
        "migration-forgets-the-email-index",
        path=MIGRATION,
        find=EMAIL_INDEX,
        replace="",
        also=[Edit('    op.drop_index("uq_users_email_lower", table_name="users")\n', "", MIGRATION)],
        killed_by=[
            "test_the_migrated_database_matches_the_models",
            "test_the_database_refuses_one_email_twice_in_another_case",
        ],
        says="migration 0003",
        why="the model promises one user per email; the database, where it counts, never heard of it",
    ),
    Mutant(
        "user-id-may-be-null",
        path=ACCOUNT_MODEL,
        find='    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), index=True)\n',
        replace='    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), index=True)\n',
        also=[Edit(NOT_NULL_NOW, "", MIGRATION)],
        killed_by=[
            "test_every_account_belongs_to_a_user_in_the_model",
            "test_the_database_refuses_an_account_without_a_user[none]",
        ],
        says="NULL",
        why="the easy way past the existing rows: accounts of nobody, which an owner check cannot place",
    ),
    Mutant(
        "no-foreign-key-in-the-migration",
        path=MIGRATION,
        find=FOREIGN_KEY,
        replace="",
        also=[
            Edit(
                '    op.drop_constraint(op.f("fk_accounts_user_id_users"), "accounts", type_="foreignkey")\n',
                "",
                MIGRATION,
            )
        ],
        killed_by=[
            "test_the_database_refuses_an_account_without_a_user[unknown]",
            "test_the_migrated_database_matches_the_models",
        ],
        says="users",
        why="an account may name a user who does not exist: owned by nobody, forever",
    ),
    Mutant(
        "users-keep-the-password-too",
        path=USER_MODEL,
        find="    password_hash: Mapped[str] = mapped_column(Text)\n",
        replace="    password_hash: Mapped[str] = mapped_column(Text)\n"
        "    password: Mapped[str | None] = mapped_column(Text)  # for support, when a user forgets it\n",
        killed_by=["test_users_has_the_columns_of_the_contract"],
        says="the password itself is never stored",
        why="a column for the plain password makes every hash pointless",
    ),
    Mutant(
        "deleting-a-user-deletes-their-money",
        path=ACCOUNT_MODEL,
        find='ForeignKey("users.id", ondelete="RESTRICT")',
        replace='ForeignKey("users.id", ondelete="CASCADE")',
        killed_by=["test_every_account_belongs_to_a_user_in_the_model"],
        says="ondelete=CASCADE",
        why="deleting a user would delete accounts that hold money, and fail on their entries halfway",
    ),
    Mutant(
        "user-id-without-an-index",
        path=ACCOUNT_MODEL,
        find='mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), index=True)',
        replace='mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))',
        killed_by=["test_every_account_belongs_to_a_user_in_the_model"],
        says="no index",
        why="every page of a user's accounts scans the whole table",
    ),
]

HASH_IN_A_THREAD = "    return await asyncio.to_thread(password_hasher.hash, password)\n"
NO_USER = """    if password_hash is None:
        # No such user: do the same work as for a real one, so that the answer takes as long.
        password_hasher.verify(password, _dummy_hash())
        return False, None
"""
VERIFY_AND_UPDATE = """    try:
        return password_hasher.verify_and_update(password, password_hash)
    except UnknownHashError:
        # A locked account ("!locked"): no password matches. Spend the same time as a real check.
        password_hasher.verify(password, _dummy_hash())
        return False, None
"""

STEP_2 = [
    Mutant(
        "the-hash-is-the-password",
        path=SECURITY,
        find=HASH_IN_A_THREAD,
        replace="    return password\n",
        killed_by=["test_a_hash_is_argon2id_and_never_the_password"],
        says="returned the password itself",
        why="whoever reads the table reads every password",
    ),
    Mutant(
        "a-fast-hash",
        path=SECURITY,
        find=HASH_IN_A_THREAD,
        replace="    return hashlib.sha256(password.encode()).hexdigest()\n",
        also=[Edit("import asyncio\n", "import asyncio\nimport hashlib\n", SECURITY)],
        killed_by=["test_a_hash_is_argon2id_and_never_the_password"],
        says="not an Argon2id hash",
        why="SHA-256 is built to be fast: a stolen table is guessed billions of times a second",
    ),
    Mutant(
        "one-salt-for-everyone",
        path=SECURITY,
        find=HASH_IN_A_THREAD,
        replace='    return await asyncio.to_thread(password_hasher.hash, password, salt=b"ledger-salt-2026")\n',
        killed_by=["test_the_same_password_gets_another_hash_each_time"],
        says="the salt is fixed",
        why="equal passwords show as equal hashes, and one precomputed table cracks them all",
    ),
    Mutant(
        "verify-by-hashing-again",
        path=SECURITY,
        find=VERIFY_AND_UPDATE,
        replace="    return password_hasher.hash(password) == password_hash, None\n",
        killed_by=["test_verify_password_accepts_the_password_and_refuses_another"],
        says="expected (True, None)",
        why="a fresh salt makes a fresh hash: comparing hashes refuses every right password",
    ),
    Mutant(
        "rehash-thrown-away",
        path=SECURITY,
        find="        return password_hasher.verify_and_update(password, password_hash)\n",
        replace="        return password_hasher.verify(password, password_hash), None\n",
        killed_by=["test_a_hash_with_older_parameters_comes_back_replaced"],
        says="returned no new hash",
        why="hashes made with weak parameters stay weak forever",
    ),
    Mutant(
        "no-user-no-work",
        path=SECURITY,
        find=NO_USER,
        replace="    if password_hash is None:\n        return False, None\n",
        killed_by=["test_a_missing_or_locked_hash_matches_nothing_and_costs_one_verification[no-user]"],
        says="made 0 Argon2 verifications",
        why="an unknown email answers a tenth of a second sooner: a stopwatch lists the emails that have accounts",
    ),
    Mutant(
        "a-locked-user-crashes-the-log-in",
        path=SECURITY,
        find=VERIFY_AND_UPDATE,
        replace="    return password_hasher.verify_and_update(password, password_hash)\n",
        killed_by=["test_a_missing_or_locked_hash_matches_nothing_and_costs_one_verification[locked]"],
        says="raised UnknownHashError",
        why="logging in as the migration's placeholder user is a 500 instead of a refusal",
    ),
    Mutant(
        "a-locked-user-answers-at-once",
        path=SECURITY,
        find="""        # A locked account ("!locked"): no password matches. Spend the same time as a real check.
        password_hasher.verify(password, _dummy_hash())
        return False, None
""",
        replace="        return False, None\n",
        killed_by=["test_a_missing_or_locked_hash_matches_nothing_and_costs_one_verification[locked]"],
        says="made 0 Argon2 verifications",
        why="a locked account answers faster than a live one, and tells which is which",
    ),
    Mutant(
        "hash-on-the-event-loop",
        path=SECURITY,
        find=HASH_IN_A_THREAD,
        replace="    return password_hasher.hash(password)\n",
        killed_by=["test_hashing_and_verifying_run_off_the_event_loop"],
        says="Argon2 ran on the event loop",
        why="a tenth of a second of CPU in async code: every other request waits for each sign-up",
    ),
    Mutant(
        "verify-on-the-event-loop",
        path=SECURITY,
        find="    return await asyncio.to_thread(_verify, password, password_hash)\n",
        replace="    return _verify(password, password_hash)\n",
        killed_by=["test_hashing_and_verifying_run_off_the_event_loop"],
        says="Argon2 ran on the event loop",
        why="ten log-ins at once stall the whole service for a second",
    ),
]

DECODE_OPTIONS = '            options={"require": REQUIRED_CLAIMS},\n'
DECODE_END = """        return uuid.UUID(claims["sub"])
    except (jwt.InvalidTokenError, ValueError, TypeError) as error:
        raise InvalidToken(str(error)) from None
"""

STEP_3 = [
    Mutant(
        "signed-with-the-default-key",
        path=SECURITY,
        find="    token = jwt.encode(claims, settings.secret_key.get_secret_value(), algorithm=ALGORITHM)\n",
        replace="    token = jwt.encode(claims, DEFAULT_SECRET_KEY, algorithm=ALGORITHM)\n",
        also=[
            Edit(
                "            settings.secret_key.get_secret_value(),\n            algorithms=[ALGORITHM],\n",
                "            DEFAULT_SECRET_KEY,\n            algorithms=[ALGORITHM],\n",
                SECURITY,
            ),
            Edit(
                "from app.core.config import Settings\n",
                "from app.core.config import DEFAULT_SECRET_KEY, Settings\n",
                SECURITY,
            ),
        ],
        killed_by=["test_a_token_is_a_jwt_signed_with_the_secret_of_the_settings"],
        says="signed with another key",
        why="every deployment signs with the key in the source code: anyone can forge anyone's token",
    ),
    Mutant(
        "lifetime-hard-coded",
        path=SECURITY,
        find="    lifetime = timedelta(minutes=settings.access_token_minutes)\n",
        replace="    lifetime = timedelta(minutes=15)\n",
        killed_by=["test_the_token_lifetime_comes_from_the_settings"],
        says="Read the lifetime from the settings",
        why="shortening the lifetime after an incident needs a release instead of a setting",
    ),
    Mutant(
        "expires-in-minutes",
        path=SECURITY,
        find="    return AccessToken(token=token, expires_in=int(lifetime.total_seconds()))\n",
        replace="    return AccessToken(token=token, expires_in=settings.access_token_minutes)\n",
        killed_by=["test_the_token_lifetime_comes_from_the_settings"],
        says="expires_in counts seconds",
        why="clients refresh their token 60 times too early, or trust it 60 times too long",
    ),
    Mutant(
        "signature-not-verified",
        path=SECURITY,
        find=DECODE_OPTIONS,
        replace='            options={"require": REQUIRED_CLAIMS, "verify_signature": False},\n',
        killed_by=[
            "test_a_token_that_proves_nothing_is_refused[tampered]",
            "test_a_token_that_proves_nothing_is_refused[another-key]",
            "test_a_token_that_proves_nothing_is_refused[alg-none]",
            "test_a_token_that_proves_nothing_is_refused[expired]",
        ],
        says="accepted",
        why="a token is then whatever its holder wrote in it: anyone is anyone",
    ),
    Mutant(
        "algorithm-from-the-token-header",
        path=SECURITY,
        find="            algorithms=[ALGORITHM],\n",
        replace='            algorithms=[jwt.get_unverified_header(token)["alg"]],\n',
        killed_by=["test_a_token_that_proves_nothing_is_refused[hs512]"],
        says="HS512",
        why="the attacker chooses how the token is checked: the algorithm confusion attacks of JWT",
    ),
    Mutant(
        "none-among-the-algorithms",
        path=SECURITY,
        find="            algorithms=[ALGORITHM],\n",
        replace='            algorithms=[ALGORITHM, "none"],  # unsigned tokens for local testing\n',
        killed_by=["test_a_token_that_proves_nothing_is_refused[alg-none]"],
        says="InvalidKeyError",
        why='"alg": "none" is an unsigned token; allowing it is the oldest JWT hole there is',
    ),
    Mutant(
        "exp-not-required",
        path=SECURITY,
        find=DECODE_OPTIONS,
        replace='            options={"require": ["sub"]},\n',
        killed_by=["test_a_token_that_proves_nothing_is_refused[no-exp]"],
        says="without an exp claim",
        why="PyJWT checks exp only when it is there: a token made without one is good forever",
    ),
    Mutant(
        "exp-not-verified",
        path=SECURITY,
        find=DECODE_OPTIONS,
        replace='            options={"require": REQUIRED_CLAIMS, "verify_exp": False},\n',
        killed_by=["test_a_token_that_proves_nothing_is_refused[expired]"],
        says="exp has passed",
        why="a stolen token never stops working",
    ),
    Mutant(
        "only-some-jwt-errors-caught",
        path=SECURITY,
        find="    except (jwt.InvalidTokenError, ValueError, TypeError) as error:\n",
        replace="    except (jwt.ExpiredSignatureError, jwt.InvalidSignatureError, ValueError) as error:\n",
        killed_by=[
            "test_a_token_that_proves_nothing_is_refused[malformed]",
            "test_a_token_that_proves_nothing_is_refused[no-exp]",
        ],
        says="which no handler turns into a 401",
        why="a malformed token is a 500: any client that sends garbage finds a server error",
    ),
    Mutant(
        "sub-read-outside-the-try",
        path=SECURITY,
        find=DECODE_END,
        replace="""    except jwt.InvalidTokenError as error:
        raise InvalidToken(str(error)) from None
    return uuid.UUID(claims["sub"])
""",
        killed_by=["test_a_token_that_proves_nothing_is_refused[not-a-uuid]"],
        says="raised ValueError",
        why='a well-signed token whose sub is "admin" becomes a 500',
    ),
    Mutant(
        "decode-returns-the-string",
        path=SECURITY,
        find='        return uuid.UUID(claims["sub"])\n',
        replace='        return claims["sub"]  # type: ignore[no-any-return]\n',
        killed_by=["test_a_valid_token_decodes_to_its_user", "test_a_token_that_proves_nothing_is_refused[not-a-uuid]"],
        says="decode_access_token(",
        why="a sub that is no user id goes on to the database, where it fails or, worse, matches",
    ),
]

LOG_IN_LOOKUP = '        user = None if "\\x00" in email else await self.users.get_by_email(email)\n'
LOG_IN_VERIFY = (
    "        matches, new_hash = await security.verify_password(password, user.password_hash if user else None)\n"
)

STEP_4 = [
    Mutant(
        "sign-up-stores-the-password",
        path=USER_SERVICE,
        find="        user = await self.users.add(email=email, password_hash=password_hash)\n",
        replace="        user = await self.users.add(email=email, password_hash=password)\n",
        killed_by=["test_sign_up_stores_an_argon2id_hash_never_the_password"],
        says="never the password",
        why="the hash is computed, then the password is stored anyway",
    ),
    Mutant(
        "user-read-shows-the-hash",
        path=USER_SCHEMAS,
        find="    email: str\n    created_at: datetime\n",
        replace="    email: str\n    created_at: datetime\n    password_hash: str\n",
        killed_by=[
            "test_signing_up_answers_201_with_the_user_and_no_password",
            "test_the_openapi_document_shows_no_password_hash",
        ],
        says="created_at only",
        why="the read model copies the table: every answer about a user carries the hash",
    ),
    Mutant(
        "email-looked-up-as-typed",
        path=USER_REPOSITORY,
        find="        statement = select(User).where(func.lower(User.email) == func.lower(email))\n",
        replace="        statement = select(User).where(User.email == email)\n",
        killed_by=["test_logging_in_finds_the_email_whatever_its_case"],
        says="whatever the case",
        why="Ada signed up as Ada@Example.com and cannot log in as ada@example.com",
    ),
    Mutant(
        "unknown-email-skips-the-hash",
        path=USER_SERVICE,
        find=LOG_IN_VERIFY,
        replace="        if user is None:\n            raise InvalidCredentials()\n" + LOG_IN_VERIFY,
        killed_by=["test_an_unknown_email_costs_as_much_hashing_as_a_wrong_password"],
        says="made 0 Argon2 verifications",
        why="the early return is a tenth of a second faster: timing lists the emails that have accounts",
    ),
    Mutant(
        "unknown-email-says-so",
        path=USER_SERVICE,
        find="        if user is None or not matches:\n",
        replace='        if user is None:\n            raise NotAuthenticated("no user has this email", token_sent=False)\n'
        "        if not matches:\n",
        killed_by=["test_a_wrong_password_and_an_unknown_email_answer_the_same"],
        says="from the difference",
        why="a helpful message that lets anyone test which emails have an account",
    ),
    Mutant(
        "rehash-never-stored",
        path=USER_SERVICE,
        find="""        if new_hash is not None:
            # The hash was made with older parameters: replace it, now that the password is at hand.
            user.password_hash = new_hash
""",
        replace="",
        killed_by=["test_logging_in_replaces_an_outdated_hash"],
        says="still stored",
        why="the weak hashes of the last release stay in the table until every user resets a password",
    ),
    Mutant(
        "password-in-the-log",
        path=USER_SERVICE,
        find='            logger.info("failed log-in")\n',
        replace='            logger.info("failed log-in for %s with %r", email, password)\n',
        killed_by=["test_no_password_or_hash_reaches_a_log_line"],
        says="a log line holds a secret",
        why="a typo'd password is one character from the real one, and logs are read by many",
    ),
    Mutant(
        "repr-shows-the-hash",
        path=USER_MODEL,
        find='        return f"User(id={self.id}, email={self.email!r})"\n',
        replace='        return f"User(id={self.id}, email={self.email!r}, password_hash={self.password_hash!r})"\n',
        killed_by=["test_no_password_or_hash_reaches_a_log_line"],
        says="a log line holds a secret",
        why="every log line and traceback that shows a user shows the hash",
    ),
    Mutant(
        "token-response-cacheable",
        path=AUTH_ROUTER,
        find='    response.headers["Cache-Control"] = "no-store"\n',
        replace="",
        killed_by=["test_logging_in_answers_a_bearer_token_that_is_never_cached"],
        says="no-store",
        why="a proxy or the browser cache keeps a credential on disk",
    ),
    Mutant(
        "sign-up-looks-then-inserts",
        path=USER_REPOSITORY,
        find="""        statement = (
            insert(User)
            .values(email=email, password_hash=password_hash)
            .on_conflict_do_nothing(index_elements=[func.lower(User.email)])
            .returning(User)
        )
        return (await self.session.scalars(statement)).one_or_none()
""",
        replace="""        if await self.get_by_email(email) is not None:
            return None
        user = User(email=email, password_hash=password_hash)
        self.session.add(user)
        await self.session.flush()
        return user
""",
        killed_by=["test_two_sign_ups_with_one_email_at_once_make_one_user"],
        says="IntegrityError",
        why="two sign-ups at once both find no user; the second becomes a 500",
    ),
    Mutant(
        "short-passwords-welcome",
        path=USER_SCHEMAS,
        find="        min_length=MIN_PASSWORD_LENGTH,\n",
        replace="",
        killed_by=["test_sign_up_refuses_what_is_not_a_valid_user[short-password]"],
        says="expected 422",
        why='"hunter2" is among the first guesses of every attacker',
    ),
    Mutant(
        "any-string-is-an-email",
        path=USER_SCHEMAS,
        find='    email: str = Field(max_length=254, pattern=EMAIL_PATTERN, examples=["ada@example.com"])\n',
        replace='    email: str = Field(max_length=254, examples=["ada@example.com"])\n',
        killed_by=["test_sign_up_refuses_what_is_not_a_valid_user[not-an-email]"],
        says="expected 422",
        why="a user who can never receive mail, and a NUL byte away from a 500",
    ),
    Mutant(
        "unknown-fields-ignored",
        path=USER_SCHEMAS,
        find='    model_config = ConfigDict(extra="forbid")\n\n    email: str = Field(',
        replace="    email: str = Field(",
        killed_by=["test_sign_up_refuses_what_is_not_a_valid_user[unknown-field]"],
        says="expected 422",
        why='{"is_admin": true} is dropped without a word: a client cannot tell it was ignored',
    ),
    Mutant(
        "email-taken-as-422",
        path=ERRORS,
        find="        case InsufficientFunds() | IdempotencyConflict() | EmailTaken():\n",
        replace="        case InsufficientFunds() | IdempotencyConflict():\n",
        killed_by=["test_an_email_taken_in_any_case_answers_409_email_taken"],
        says="expected 409",
        why="the request is valid; the state refuses it: 409, as the API documents",
    ),
    Mutant(
        "sign-up-hashes-on-the-event-loop",
        path=USER_SERVICE,
        find="        password_hash = await security.hash_password(password)\n",
        replace="        password_hash = security.password_hasher.hash(password)\n",
        killed_by=["test_signing_up_and_logging_in_hash_off_the_event_loop"],
        says="ran Argon2 on the event loop",
        why="the service calls pwdlib itself, in async code: a tenth of a second of stall per sign-up",
    ),
]

OAUTH2_SCHEME = """oauth2_scheme = OAuth2PasswordBearer(
    tokenUrl="/api/v1/auth/token",
    auto_error=False,
    description="Log in with your email as `username` and your password.",
)
"""
CURRENT_USER = """        try:
            user_id = security.decode_access_token(token, self.settings)
        except security.InvalidToken as error:
            raise NotAuthenticated(f"the token is not valid: {error}", token_sent=True) from None
"""

STEP_5 = [
    Mutant(
        "the-scheme-answers-its-own-401",
        path=AUTH_DEPENDENCY,
        find="    auto_error=False,\n",
        replace="    auto_error=True,\n",
        killed_by=["test_a_request_without_a_valid_token_answers_401[no-token]"],
        says="auto_error=False",
        why='FastAPI\'s {"detail": "Not authenticated"}: a second error body beside the API\'s one',
    ),
    Mutant(
        "token-url-relative",
        path=AUTH_DEPENDENCY,
        find='    tokenUrl="/api/v1/auth/token",\n',
        replace='    tokenUrl="token",\n',
        killed_by=["test_swagger_ui_logs_in_at_the_token_route"],
        says="resolves against /docs",
        why="the tutorial's tokenUrl: Swagger UI's Authorize posts the form to /token, a 404",
    ),
    Mutant(
        "the-scheme-is-an-api-key-header",
        path=AUTH_DEPENDENCY,
        find=OAUTH2_SCHEME,
        replace='oauth2_scheme = APIKeyHeader(name="Authorization", auto_error=False)\n',
        also=[
            Edit(
                "from fastapi.security import OAuth2PasswordBearer\n",
                "from fastapi.security import APIKeyHeader\n",
                AUTH_DEPENDENCY,
            )
        ],
        killed_by=["test_swagger_ui_logs_in_at_the_token_route"],
        says="OAuth2 password flow",
        why="OpenAPI then knows no log-in flow: Swagger UI asks for a raw header value instead",
    ),
    Mutant(
        "401-without-its-challenge",
        path=ERRORS,
        find="    headers = {CHALLENGE_HEADER: challenge} if challenge is not None else None\n",
        replace="    headers = None\n",
        killed_by=[
            "test_a_request_without_a_valid_token_answers_401[no-token]",
            "test_a_request_without_a_valid_token_answers_401[malformed]",
            "test_a_request_without_a_valid_token_answers_401[tampered]",
            "test_a_request_without_a_valid_token_answers_401[expired]",
            "test_a_request_without_a_valid_token_answers_401[alg-none]",
            "test_a_request_without_a_valid_token_answers_401[another-key]",
            "test_a_request_without_a_valid_token_answers_401[unknown-user]",
        ],
        says="WWW-Authenticate: Bearer",
        why="a 401 without WWW-Authenticate breaks HTTP (RFC 9110): clients cannot tell what to send",
    ),
    Mutant(
        "not-authenticated-as-403",
        path=ERRORS,
        find="        case InvalidCredentials() | NotAuthenticated():\n            return status.HTTP_401_UNAUTHORIZED\n",
        replace="        case InvalidCredentials():\n            return status.HTTP_401_UNAUTHORIZED\n"
        "        case NotAuthenticated():\n            return status.HTTP_403_FORBIDDEN\n",
        killed_by=["test_a_request_without_a_valid_token_answers_401[no-token]"],
        says="expected 401",
        why="403 means: we know who you are, and no. Without a valid token we do not know who you are: 401",
    ),
    Mutant(
        "a-deleted-user-is-trusted",
        path=USER_SERVICE,
        find="""        user = await self.users.get(user_id)
        if user is None:
            raise NotAuthenticated("the token's user does not exist", token_sent=True)
        return user
""",
        replace="""        user = await self.users.get(user_id)
        return user  # type: ignore[return-value]
""",
        killed_by=["test_a_request_without_a_valid_token_answers_401[unknown-user]"],
        says="500 because",
        why="a token outlives its user: a deleted user's token crashes every request it sends",
    ),
    Mutant(
        "an-invalid-token-crashes",
        path=USER_SERVICE,
        find=CURRENT_USER,
        replace="        user_id = security.decode_access_token(token, self.settings)\n",
        killed_by=[
            "test_a_request_without_a_valid_token_answers_401[malformed]",
            "test_a_request_without_a_valid_token_answers_401[tampered]",
            "test_a_request_without_a_valid_token_answers_401[expired]",
            "test_a_request_without_a_valid_token_answers_401[alg-none]",
            "test_a_request_without_a_valid_token_answers_401[another-key]",
        ],
        says="500 because",
        why="every expired token is a 500 instead of a 401 that tells the client to log in again",
    ),
    Mutant(
        "every-challenge-says-invalid-token",
        path=ERRORS,
        find="        case NotAuthenticated(token_sent=True):\n",
        replace="        case NotAuthenticated():\n",
        killed_by=["test_the_challenge_says_invalid_token_only_when_a_token_was_sent"],
        says="plain",
        why="a client that sent no token is told its token is invalid (RFC 6750 3.1: no error code then)",
    ),
    Mutant(
        "me-with-a-trailing-slash",
        path=USERS_ROUTER,
        find='    "/me",\n',
        replace='    "/me/",\n',
        killed_by=["test_users_me_answers_the_user_of_the_token"],
        says="expected 200",
        why="GET /api/v1/users/me answers a redirect, which drops the Authorization header in many clients",
    ),
    Mutant(
        "the-users-router-asks-everyone-for-a-token",
        path=USERS_ROUTER,
        find='router = APIRouter(prefix="/users", tags=["users"])\n',
        replace='router = APIRouter(prefix="/users", tags=["users"], dependencies=[Depends(get_current_user)])\n',
        also=[
            Edit(
                "from fastapi import APIRouter, status\n",
                "from fastapi import APIRouter, Depends, status\n",
                USERS_ROUTER,
            ),
            Edit(
                "from app.dependencies.auth import CurrentUser\n",
                "from app.dependencies.auth import CurrentUser, get_current_user\n",
                USERS_ROUTER,
            ),
        ],
        killed_by=["test_only_signing_up_logging_in_and_health_need_no_token"],
        says="nobody could sign up",
        why="the whole router protected in one line: sign-up now needs the token that sign-up gives",
    ),
]

STEP_6 = [
    Mutant(
        "every-account-listed",
        path=ACCOUNT_REPOSITORY,
        find="select(Account).where(Account.user_id == user_id).order_by(Account.id)",
        replace="select(Account).order_by(Account.id)",
        killed_by=["test_a_user_lists_only_their_own_accounts"],
        says="lists Grace's account",
        why="the user_id parameter is accepted and ignored: everyone reads everyone's balances",
    ),
    Mutant(
        "read-skips-the-owner",
        path=ACCOUNT_SERVICE,
        find="        return self._owned(account_id, await self.accounts.get(account_id))\n",
        replace="""        account = await self.accounts.get(account_id)
        if account is None:
            raise AccountNotFound(account_id)
        return account
""",
        killed_by=[
            "test_another_users_account_answers_404_like_a_missing_one[read]",
            "test_the_services_refuse_another_users_account_themselves",
        ],
        says="another user's account",
        why="lesson 05's get() kept as it was: any account id reads any balance",
    ),
    Mutant(
        "deposit-skips-the-owner",
        path=ACCOUNT_SERVICE,
        find="        account = self._owned(account_id, await self.accounts.get_for_update(account_id))\n",
        replace="""        account = await self.accounts.get_for_update(account_id)
        if account is None:
            raise AccountNotFound(account_id)
""",
        killed_by=["test_another_users_account_answers_404_like_a_missing_one[deposit]"],
        says="expected 404",
        why="anyone can pay into, and so learn of, anyone's account",
    ),
    Mutant(
        "statement-skips-the-owner",
        path=ACCOUNT_SERVICE,
        find="        self._owned(account_id, await self.accounts.get(account_id))\n",
        replace="""        if await self.accounts.get(account_id) is None:
            raise AccountNotFound(account_id)
""",
        killed_by=[
            "test_another_users_account_answers_404_like_a_missing_one[statement]",
            "test_the_services_refuse_another_users_account_themselves",
        ],
        says="another user's account",
        why="another user's statement shows every payment they made and received",
    ),
    Mutant(
        "another-users-account-is-403",
        path=ACCOUNT_SERVICE,
        find="""        if account is None or account.user_id != self.user_id:
            raise AccountNotFound(account_id)
        return account
""",
        replace="""        if account is None:
            raise AccountNotFound(account_id)
        if account.user_id != self.user_id:
            raise AccountForbidden(account_id)
        return account
""",
        also=[
            Edit(
                "from app.services.errors import AccountNotFound, InvalidAmount\n",
                "from app.services.errors import AccountForbidden, AccountNotFound, InvalidAmount\n",
                ACCOUNT_SERVICE,
            ),
            Edit(
                "class InvalidAmount(DomainError):\n",
                'class AccountForbidden(DomainError):\n    code = "account_forbidden"\n\n'
                "    def __init__(self, account_id: uuid.UUID) -> None:\n"
                '        super().__init__(f"account {account_id} is not yours")\n\n\n'
                "class InvalidAmount(DomainError):\n",
                SERVICE_ERRORS,
            ),
            Edit(
                "        case AccountNotFound():\n            return status.HTTP_404_NOT_FOUND\n",
                "        case AccountNotFound():\n            return status.HTTP_404_NOT_FOUND\n"
                "        case AccountForbidden():\n            return status.HTTP_403_FORBIDDEN\n",
                ERRORS,
            ),
            Edit(
                "    AccountNotFound,\n    CurrencyMismatch,\n",
                "    AccountForbidden,\n    AccountNotFound,\n    CurrencyMismatch,\n",
                ERRORS,
            ),
        ],
        killed_by=[
            "test_another_users_account_answers_404_like_a_missing_one[read]",
            "test_the_services_refuse_another_users_account_themselves",
        ],
        says="another user's account",
        why="403 confirms the account exists: any id can be probed, and this API documented 404",
    ),
    Mutant(
        "money-leaves-anyones-account",
        path=TRANSFER_SERVICE,
        find="""        if source.user_id != self.user_id:
            raise AccountNotFound(source_id)
""",
        replace="",
        killed_by=[
            "test_money_never_leaves_another_users_account",
            "test_the_services_refuse_another_users_account_themselves",
        ],
        says="another user's account",
        why="whoever knows an account id can empty it",
    ),
    Mutant(
        "money-only-between-ones-own-accounts",
        path=TRANSFER_SERVICE,
        find="        if source.user_id != self.user_id:\n",
        replace="        if self.user_id != source.user_id or self.user_id != target.user_id:\n",
        killed_by=["test_money_may_go_to_another_users_account"],
        says="money may go to anyone's account",
        why="the owner check applied to both sides: nobody can pay anybody",
    ),
    Mutant(
        "owner-checked-after-the-rules",
        path=TRANSFER_SERVICE,
        find="""        if source.user_id != self.user_id:
            raise AccountNotFound(source_id)
        if source.currency != target.currency:
            raise CurrencyMismatch(source.currency, target.currency)
        # Read under the lock: no other transaction can spend this balance before we commit.
        if source.balance < amount:
            raise InsufficientFunds(source.id, source.balance, amount)
""",
        replace="""        if source.currency != target.currency:
            raise CurrencyMismatch(source.currency, target.currency)
        # Read under the lock: no other transaction can spend this balance before we commit.
        if source.balance < amount:
            raise InsufficientFunds(source.id, source.balance, amount)
        if source.user_id != self.user_id:
            raise AccountNotFound(source_id)
""",
        killed_by=[
            "test_money_never_leaves_another_users_account[with too little money]",
            "test_money_never_leaves_another_users_account[in another currency]",
        ],
        says="Check the owner before any other rule",
        why="another user's account answers 409 with its balance or 422 with its currency: it exists, and holds that",
    ),
    Mutant(
        "emails-unique-as-typed",
        path=USER_MODEL,
        find='Index("uq_users_email_lower", func.lower(User.email), unique=True)',
        replace='Index("uq_users_email", User.email, unique=True)',
        also=[
            Edit(
                EMAIL_INDEX,
                EMAIL_INDEX.replace('_lower", "users", [sa.literal_column("lower(email)")]', '", "users", ["email"]'),
                MIGRATION,
            ),
            Edit(
                'op.drop_index("uq_users_email_lower", table_name="users")',
                'op.drop_index("uq_users_email", table_name="users")',
                MIGRATION,
            ),
            Edit(
                ".on_conflict_do_nothing(index_elements=[func.lower(User.email)])",
                ".on_conflict_do_nothing(index_elements=[User.email])",
                USER_REPOSITORY,
            ),
        ],
        killed_by=["test_two_sign_ups_with_one_email_at_once_make_one_user"],
        says="unique whatever their case",
        why="Ada@Example.com and ada@example.com become two users of one mailbox, each with a password",
    ),
    Mutant(
        "deleted-users-token-counts-as-none",
        path=USER_SERVICE,
        find='            raise NotAuthenticated("the token\'s user does not exist", token_sent=True)\n',
        replace='            raise NotAuthenticated("the token\'s user does not exist", token_sent=False)\n',
        killed_by=["test_a_request_without_a_valid_token_answers_401[unknown-user]"],
        says="token_sent=True",
        why="a deleted user's token is answered as if none was sent: the client never learns to log in again",
    ),
    Mutant(
        "log-in-looks-up-a-nul",
        path=USER_SERVICE,
        find='        user = None if "\\x00" in email else await self.users.get_by_email(email)\n',
        replace="        user = await self.users.get_by_email(email)\n",
        killed_by=["test_an_email_with_a_nul_byte_is_a_failed_log_in"],
        says="NUL byte",
        why="a username with a NUL reaches PostgreSQL, which refuses it: a 500 for anyone who types one",
    ),
    Mutant(
        "deposit-checks-the-owner-without-the-lock",
        path=ACCOUNT_SERVICE,
        find="        account = self._owned(account_id, await self.accounts.get_for_update(account_id))\n",
        replace="        account = self._owned(account_id, await self.accounts.get(account_id))\n",
        killed_by=["test_a_deposit_still_locks_the_account_it_checks"],
        says="without locking its row",
        why="the owner check reads the row without lesson 05's lock: concurrent deposits lose updates again",
    ),
    Mutant(
        "accounts-filtered-after-the-page",
        path=ACCOUNT_REPOSITORY,
        find="        statement = select(Account).where(Account.user_id == user_id).order_by(Account.id).limit(limit).offset(offset)\n"
        "        return (await self.session.scalars(statement)).all()\n",
        replace="        statement = select(Account).order_by(Account.id).limit(limit).offset(offset)\n"
        "        return [account for account in (await self.session.scalars(statement)).all() if account.user_id == user_id]\n",
        killed_by=["test_a_users_pages_are_full_pages_of_their_own_accounts"],
        says="filtered",
        why="the owner filter applied to a page of everybody's accounts: pages come back short, later accounts missing",
    ),
    Mutant(
        "fingerprint-without-the-user",
        path=TRANSFER_SERVICE,
        find='    return hashlib.sha256(f"{user_id}:{source_id}:{target_id}:{amount}".encode()).hexdigest()\n',
        replace='    return hashlib.sha256(f"{source_id}:{target_id}:{amount}".encode()).hexdigest()\n',
        killed_by=["test_another_users_idempotency_key_replays_nothing"],
        says="Put the user in request_fingerprint",
        why="a replay skips the owner check: another user's key and body show another user's transfer",
    ),
    Mutant(
        "security-raises-http-errors",
        path=SECURITY,
        find="        raise InvalidToken(str(error)) from None\n",
        replace='        raise HTTPException(status_code=401, detail="invalid token") from None\n',
        also=[Edit("import jwt\n", "import jwt\nfrom fastapi import HTTPException\n", SECURITY)],
        killed_by=["test_the_layers_hold"],
        says="nothing below the routers",
        why="core/ speaks HTTP: a job or a CLI that decodes a token gets an HTTPException",
    ),
    Mutant(
        "a-router-imports-the-user-model",
        path=USERS_ROUTER,
        find="async def read_me(user: CurrentUser) -> UserRead:\n",
        replace="async def read_me(user: Annotated[User, Depends(get_current_user)]) -> UserRead:\n",
        also=[
            Edit(
                "from fastapi import APIRouter, status\n",
                "from typing import Annotated\n\nfrom fastapi import APIRouter, Depends, status\n",
                USERS_ROUTER,
            ),
            Edit(
                "from app.dependencies.auth import CurrentUser\n",
                "from app.dependencies.auth import CurrentUser, get_current_user\n",
                USERS_ROUTER,
            ),
            Edit(
                "from app.routers.errors import error_responses\n",
                "from app.models import User\nfrom app.routers.errors import error_responses\n",
                USERS_ROUTER,
            ),
        ],
        killed_by=["test_the_layers_hold"],
        says="routers depend on services",
        why="the route spells the dependency out and imports the table's class to do it",
    ),
    Mutant(
        "failed-log-ins-slowed-with-time-sleep",
        path=USER_SERVICE,
        find='            logger.info("failed log-in")\n',
        replace='            time.sleep(1)  # slow down brute force\n            logger.info("failed log-in")\n',
        also=[Edit("import logging\n", "import logging\nimport time\n", USER_SERVICE)],
        killed_by=["test_no_async_function_blocks_the_event_loop"],
        says="time.sleep()",
        why="it slows down everyone: for a second per failed log-in the process answers nobody",
    ),
    Mutant(
        "me-returns-the-orm-user",
        path=USERS_ROUTER,
        find='    """The user the access token was issued to."""\n    return UserRead.model_validate(user)\n',
        replace='    """The user the access token was issued to."""\n    return user\n',
        killed_by=["test_your_code_is_ruff_and_mypy_strict_clean"],
        says="incompatible return value",
        why="FastAPI converts it quietly, but the route lies about its type and mypy --strict says so",
    ),
    Mutant(
        "unused-import-left-behind",
        path=AUTH_ROUTER,
        find="from fastapi import APIRouter, Depends, Response, status\n",
        replace="from fastapi import APIRouter, Depends, HTTPException, Response, status\n",
        killed_by=["test_your_code_is_ruff_and_mypy_strict_clean"],
        says="F401",
        why="an import nothing uses is dead code ruff reports on every run",
    ),
]

MUTANTS = [*STEP_1, *STEP_2, *STEP_3, *STEP_4, *STEP_5, *STEP_6]
