"""Imports every feature's models so the metadata (and Alembic) sees the whole schema."""

from .admin.models import AuditEvent  # noqa: F401
from .auth.models import User  # noqa: F401
from .auth.second_factor_models import (  # noqa: F401
    AdminSecondFactor,
    RecoveryCode,
    SecondFactorCheck,
)
from .catalog.models import (  # noqa: F401
    Brand,
    MasterProduct,
    Product,
    ProductCategory,
    ProductImage,
    ProductImport,
    VendorProductMapping,
)
from .commissions.models import (  # noqa: F401
    CommissionRecord,
    CommissionSummary,
    VendorCommissionTotal,
    VendorPlatformFee,
)
from .cart.models import Cart, CartItem  # noqa: F401
from .customers.models import Customer  # noqa: F401
from .deliveries.models import DeliveryAssignment, Driver, DriverRequest  # noqa: F401
from .deliveries.models_drivers import DriverDocument, DriverPosition  # noqa: F401
from .deliveries.models_tracking import DeliveryRating  # noqa: F401
from .deliveries.providers.models import ProviderDelivery, ProviderEvent  # noqa: F401
from .loyalty.models import (  # noqa: F401
    PointsBalance,
    PointsClawbackShortfall,
    PointsHold,
    PointsPendingEarn,
    PointsTransaction,
)
from .obfuscation.models import ObfuscationClassification, ProductObfuscation  # noqa: F401
from .operations.models import ArchivedOrder  # noqa: F401
from .orders.models import (  # noqa: F401
    Order,
    OrderDispute,
    OrderEvent,
    OrderExternalRef,
    OrderItem,
    OrderRefund,
    VendorOrderCounter,
    VendorOrderNumber,
)
from .orders.tips import OrderDriverTip  # noqa: F401
from .payouts.connect_models import StripeEvent, StripeOnboarding, VendorBankPayout  # noqa: F401
from .payouts.driver_models import (  # noqa: F401
    DriverEarning,
    DriverPayoutHold,
    PayoutRunDriverHold,
)
from .payouts.models import (  # noqa: F401
    AdminPayoutHold,
    ConnectedAccount,
    Payout,
    PayoutHold,
    PayoutRun,
    PayoutRunHold,
    VendorPayoutNotices,
)
from .referrals.models import ReferralDailyStat, ReferralOrder, ShopReferral  # noqa: F401
from .tiers.models import MonthClose, ShopTier, TierChange, VendorMonthlyVolume  # noqa: F401
from .vendors.models import Vendor, VendorInvitation, VendorMember  # noqa: F401
