// The `subscription` machine for Stately's editor: Import (Code panel, or Machine > Import) and paste
// this file. Generated from machines/subscription.machine.ts by `npm run visualize`; do not edit.
createMachine({
  "id": "subscription",
  "description": "One subscription of a client, a child of its connection: subscribed at every open, after onOpen and before queued sends, in the order subscriptions were created; re-subscribed after every reopen until unsubscribed or the client stops.",
  "entry": "register",
  "on": {
    "connection.stopped": {
      "target": ".unsubscribed",
      "description": "The client stopped: the subscription ends with it, nothing is sent (subscribe again after start())."
    }
  },
  "initial": "subscribing",
  "states": {
    "subscribing": {
      "description": "Not subscribed yet: waits for the connection to be open, then runs the user's subscribe (its promise is the acknowledgement).",
      "initial": "waiting",
      "states": {
        "waiting": {
          "description": "The connection is not open (idle, connecting, onOpen running, reconnecting).",
          "on": {
            "connection.opened": {
              "target": "running",
              "actions": "recordOpened"
            },
            "subscription.unsubscribe": {
              "target": "#subscription.unsubscribed",
              "description": "Nothing was sent: nothing to undo."
            }
          }
        },
        "running": {
          "description": "The user's subscribe runs (started synchronously at the open, so requests go out in creation order).",
          "invoke": {
            "id": "subscribe",
            "src": "subscribe",
            "onDone": {
              "target": "#subscription.subscribed",
              "actions": "recordSubscribed"
            },
            "onError": {
              "target": "#subscription.failed",
              "actions": "recordFailure",
              "description": "The subscribe rejected or threw: failed, with the typed error (cause kept)."
            }
          },
          "entry": [
            "beginAttempt",
            "armTimeout"
          ],
          "exit": "cancelTimeout",
          "on": {
            "subscription.timedOut": {
              "target": "#subscription.failed",
              "actions": "recordTimeout",
              "description": "The subscribe did not settle within timeoutMs: failed (it is abandoned)."
            },
            "connection.ended": {
              "target": "waiting",
              "actions": "recordEnded",
              "description": "The session ended mid-subscribe: the attempt is abandoned; run again at the next open."
            },
            "subscription.unsubscribe": {
              "target": "#subscription.unsubscribing",
              "description": "The subscribe request may be out: the unsubscribe follows it on the same socket, in order."
            }
          }
        }
      }
    },
    "subscribed": {
      "description": "The subscribe resolved in the current session: the server is sending what was subscribed.",
      "on": {
        "connection.ended": {
          "target": "resubscribing",
          "actions": "recordEnded",
          "description": "The session ended: the server forgot the subscription; subscribe again at the next open."
        },
        "subscription.unsubscribe": {
          "target": "unsubscribing"
        }
      }
    },
    "resubscribing": {
      "description": "Was subscribed, and the session ended: waits for the next open, then subscribes again with `resubscribing: true` (and the last message, for resuming).",
      "initial": "waiting",
      "states": {
        "waiting": {
          "description": "The connection is reconnecting.",
          "on": {
            "connection.opened": {
              "target": "running",
              "actions": "recordOpened"
            },
            "subscription.unsubscribe": {
              "target": "#subscription.unsubscribed",
              "description": "Unsubscribed during a reconnect: the server forgot it already; no resubscribe."
            }
          }
        },
        "running": {
          "description": "The user's subscribe runs again, with `resubscribing: true`.",
          "invoke": {
            "id": "subscribe",
            "src": "subscribe",
            "onDone": {
              "target": "#subscription.subscribed",
              "actions": "recordSubscribed"
            },
            "onError": {
              "target": "#subscription.failed",
              "actions": "recordFailure",
              "description": "The subscribe rejected or threw: failed, with the typed error (cause kept)."
            }
          },
          "entry": [
            "beginAttempt",
            "armTimeout"
          ],
          "exit": "cancelTimeout",
          "on": {
            "subscription.timedOut": {
              "target": "#subscription.failed",
              "actions": "recordTimeout",
              "description": "The subscribe did not settle within timeoutMs: failed (it is abandoned)."
            },
            "connection.ended": {
              "target": "waiting",
              "actions": "recordEnded",
              "description": "The session ended mid-subscribe: the attempt is abandoned; run again at the next open."
            },
            "subscription.unsubscribe": {
              "target": "#subscription.unsubscribing",
              "description": "The subscribe request may be out: the unsubscribe follows it on the same socket, in order."
            }
          }
        }
      }
    },
    "failed": {
      "description": "The last subscribe rejected, threw or timed out (lastError; the typed error was emitted). Retried at the next open, or after its own backoff while open when `retry` is set.",
      "on": {
        "connection.ended": {
          "actions": "recordEnded"
        },
        "connection.opened": [
          {
            "guard": "hasSubscribed",
            "target": "resubscribing.running",
            "actions": "recordOpened",
            "description": "Retried at the reopen."
          },
          {
            "target": "subscribing.running",
            "actions": "recordOpened",
            "description": "Retried at the reopen."
          }
        ],
        "subscription.unsubscribe": {
          "target": "unsubscribed",
          "description": "The server refused (or never answered) the subscribe: nothing to undo."
        }
      },
      "after": {
        "retryDelay": [
          {
            "guard": "and",
            "target": "resubscribing.running",
            "description": "retry: the backoff passed, the connection is open and attempts are left."
          },
          {
            "guard": "canRetry",
            "target": "subscribing.running",
            "description": "retry: the backoff passed, the connection is open and attempts are left."
          }
        ]
      }
    },
    "unsubscribing": {
      "description": "unsubscribe() while the subscription may be live on the server: the user's unsubscribe runs on the open session, bounded by timeoutMs.",
      "invoke": {
        "id": "unsubscribe",
        "src": "unsubscribe",
        "onDone": {
          "target": "unsubscribed"
        },
        "onError": {
          "target": "unsubscribed",
          "actions": "recordUnsubscribeFailure",
          "description": "Reported; unsubscribed on this side anyway."
        }
      },
      "entry": "armTimeout",
      "exit": "cancelTimeout",
      "on": {
        "subscription.timedOut": {
          "target": "unsubscribed",
          "actions": "recordUnsubscribeFailure",
          "description": "The unsubscribe did not settle within timeoutMs: reported, unsubscribed anyway."
        },
        "connection.ended": {
          "target": "unsubscribed",
          "actions": "recordEnded",
          "description": "The session ended: the server forgot the subscription with it."
        }
      }
    },
    "unsubscribed": {
      "type": "final",
      "description": "Done: never subscribed again. Messages it would have claimed take the ordinary path (onMessage, messages(), or reported unhandled)."
    }
  }
});
