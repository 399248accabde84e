"""Domain errors: each rejection of bad input is one of these, with a message to act on."""


class DomainError(Exception):
    """Base class: the input breaks a rule of the domain. Nothing was written."""


class InvalidEmail(DomainError):
    pass


class InvalidPhone(DomainError):
    pass


class UnknownChannel(DomainError):
    pass


class UnknownConsentState(DomainError):
    pass


class UnknownOptInLevel(DomainError):
    pass


class UnknownSource(DomainError):
    pass


class NaiveDatetime(DomainError):
    """A timestamp without a timezone: we cannot order it against others, so we refuse it."""


class InvalidEvidence(DomainError):
    pass


class InvalidValue(DomainError):
    """A field holds a value outside what the model accepts (a catch-all with a precise message)."""


class ScopeViolation(DomainError):
    """An object of one merchant was handed to another merchant's repository or aggregate."""


class NotFound(DomainError):
    pass
