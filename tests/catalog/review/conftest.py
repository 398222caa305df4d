from tests.deliveries.test_rating_race import committed_world  # noqa: F401  (fixtures)
from tests.mailbox import mailbox  # noqa: F401
