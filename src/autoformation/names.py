"""Names the hub, its services and the learners' servers must agree on, in one place."""

GRADING_SERVICE = "grading"  # /services/grading/: submissions, feedback, progress, trainers' pages
BOOK_SERVICE = "book"  # /services/book/: the companion book
TRAINER_SCOPE = "custom:grading:trainers"  # held by trainers and admins; checked by the trainers' pages
GRADING_URL_ENV = "AUTOFORMATION_GRADING_URL"  # where a learner's server submits
CONFIG_ENV = "AUTOFORMATION_CONFIG"  # the settings file every service reads
HUB_CLIENT = "hub-hooks"  # the hub's own calls to the grading service: the catalogue's progress, the spawn hook
HUB_SCOPE = "custom:grading:hub"  # what those calls may do: read any learner's progress, record their material
# `autoformation up` as root runs the hub unprivileged and tells it (environment):
HUB_STATE_ENV = "AUTOFORMATION_HUB_STATE_DIR"  # the hub's own files (database, cookie secret), its account's
GRADING_TOKEN_ENV = "AUTOFORMATION_GRADING_TOKEN"  # the grading service `up` started (external to the hub)
