"""Completion callbacks: a job submitted with a `callback_url` is POSTed there, signed,
once it is final (done, or failed with its reason) — docs/CALLBACKS.md.

- `targets`: the operator's allow-list (`PREDICTQ_CALLBACK_ALLOW`), checked when a job
  is submitted (422 otherwise, nothing stored) and again, with the host resolved, when
  it is delivered (a refused target is abandoned, never retried).
- `signing`: the `X-Predictq-Signature` HMAC and how a receiver verifies it.
- `sender`: one signed POST over a kept-alive connection to the checked address.
- `delivery`: the deliverer, the alerts' AlertDeliverer over `store.callbacks`.

Never lost: the callback is stored with its job (`Store.create`, one write), and the
write that makes the job final is the one that makes its callback due (SQLite: in
`finish`'s transaction; MongoDB: the job's own document) — a final job with its
callback forgotten cannot exist, so there is nothing for a sweep to recover. Delivery
is at least once: a deliverer killed between a receiver's 2xx and its record sends
again when its lease runs out, so receivers de-duplicate on the tracking id
(`X-Predictq-Tracking-Id`, and `tracking_id` in the body); every attempt after the
first says why in `X-Predictq-Retry-Reason`.
"""
