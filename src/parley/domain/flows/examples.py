"""Flows shipped with Parley: the demo organisation publishes EXAMPLE_FLOW.

It shows the whole language in a page: a greeting, a business-hours decision, a question
with a timeout, a switch on the answer, participant data and a transfer to "Support".
"""

from __future__ import annotations

EXAMPLE_FLOW = """\
name: Support intake
description: Greets, checks business hours, asks what it is about, routes to Support
type: inboundshortmessage
fallbackQueue: Support        # where a conversation goes if the flow fails or loops
schedules:
  businessHours:
    timezone: America/Chicago
    open: {mon-fri: "09:00-17:00", sat: "10:00-13:00"}
    holidays: ["2026-12-25", "2027-01-01"]
start: greet
actions:
  greet:
    sendResponse: {text: "Hi! Thanks for texting {{ flow.name }}."}
    next: hours
  hours:
    decision: {if: "isOpen('businessHours')", then: ask, else: closed}
  closed:
    sendResponse: {text: "We're closed; an agent will reply when we open."}
    next: toSupport
  ask:
    askQuestion:
      text: "Reply 1 for billing, 2 for anything else"
      saveAs: choice
      timeoutSeconds: 300
      timeout: toSupport
    next: route
  route:
    switch: {on: "choice", cases: {"1": billing}, default: toSupport}
  billing:
    setParticipantData: {topic: billing}
    next: toSupport
  toSupport:
    transferToAcd: {queue: Support, priority: 0, skills: [], preferredAgent: null}
"""
"""The demo organisation's published inbound message flow (its queue must be "Support")."""
