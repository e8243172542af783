"""SQS: a queue URL names the queue's own account, as in AWS.

moto picks the queue by name in the *caller's* account and ignores the account in the URL. The
Step Functions interpreter calls SQS with moto's default credentials, so a `.waitForTaskToken`
step in account 333333333333 would send to a queue of account 123456789012. Reading the account
from `QueueUrl` (`…/<account>/<name>`) delivers to the queue the URL names, as AWS does (queue
policies are not checked: moto does not enforce IAM).
"""

from __future__ import annotations

import re

from moto.sqs.models import SQSBackend, sqs_backends
from moto.sqs.responses import SQSResponse

_ACCOUNT_IN_URL = re.compile(r"/(\d{12})/[^/]+/?$")


def _backend_of_queue_url(self: SQSResponse) -> SQSBackend:
    url = self._get_param("QueueUrl")
    match = _ACCOUNT_IN_URL.search(url) if isinstance(url, str) else None
    return sqs_backends[match.group(1) if match else self.current_account][self.region]


EXTENSIONS = {
    SQSResponse: {"sqs_backend": property(_backend_of_queue_url)},
}
