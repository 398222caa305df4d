from tests.mailbox import mailbox  # noqa: F401  (fixtures)
from tests.sessions_fixture import _fresh_login_per_request  # noqa: F401
