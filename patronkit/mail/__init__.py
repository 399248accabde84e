"""Outgoing email: transports chosen by `mail_url`, and the queue job that sends.

Mail is never sent inside a web request: the request queues a job naming the customer, and
the worker looks the address up and hands the message to the transport (retried on errors).
"""
