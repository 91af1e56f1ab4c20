import logging

from axes.signals import user_locked_out
from django.dispatch import receiver

logger = logging.getLogger("portal.security")


@receiver(user_locked_out)
def log_lockout(sender, request, username, ip_address, **kwargs) -> None:
    # The username may be an email address: the log filter masks it.
    logger.warning("sign-in locked out for user %r from %s", username, ip_address)
