// The `connection` machine for Stately's editor: Import (Code panel, or Machine > Import) and paste
// this file. Generated from machines/connection.machine.ts by `npm run visualize`; do not edit.
createMachine({
  "id": "connection",
  "description": "The lifecycle of one wsmachine client.",
  "on": {
    "env.offline": {
      "actions": "xstate.assign"
    },
    "env.online": {
      "actions": "xstate.assign"
    },
    "env.visible": {
      "actions": "xstate.raise"
    }
  },
  "initial": "idle",
  "states": {
    "idle": {
      "description": "Created; nothing is open and no timer runs. start() begins the first session.",
      "on": {
        "client.start": {
          "target": "session",
          "actions": "beginStart"
        }
      }
    },
    "session": {
      "description": "One connection attempt and, if it opens, its life. Owns the one socket actor: leaving this state by any path terminates the socket.",
      "entry": "beginSession",
      "exit": [
        "finalizeClose",
        "announceClosed"
      ],
      "invoke": {
        "id": "socket",
        "src": "socket",
        "onError": {
          "target": ".closing",
          "actions": [
            "xstate.assign",
            "reportLastError"
          ]
        }
      },
      "on": {
        "client.stop": {
          "target": ".closing",
          "actions": "requestStop"
        },
        "client.restart": {
          "target": ".closing",
          "actions": "requestRestart"
        },
        "client.exit": {
          "target": ".closing",
          "actions": "requestExit"
        },
        "socket.closed": {
          "guard": "isCurrentSession",
          "target": ".closing",
          "actions": [
            "recordSocketClosed",
            "reportSocketError"
          ]
        }
      },
      "initial": "establishing",
      "states": {
        "establishing": {
          "description": "Dial, handshake and onOpen, bounded together by openTimeoutMs.",
          "after": {
            "openTimeout": {
              "guard": "hasOpenTimeout",
              "target": "closing",
              "actions": [
                "recordOpenTimeout",
                "reportLastError"
              ]
            }
          },
          "initial": "connecting",
          "states": {
            "connecting": {
              "description": "Resolving the URL and headers for this attempt, dialing, and the HTTP upgrade.",
              "on": {
                "socket.opened": {
                  "guard": "isCurrentSession",
                  "target": "opening",
                  "actions": "recordSocketOpened"
                }
              }
            },
            "opening": {
              "description": "The socket is open; the onOpen hook runs (it may send, await replies, or fail the session).",
              "invoke": {
                "id": "openHook",
                "src": "openHook",
                "onDone": {
                  "target": "#connection.session.open"
                },
                "onError": {
                  "target": "#connection.session.closing",
                  "actions": [
                    "recordHookFailure",
                    "reportOpenHookError"
                  ]
                }
              }
            }
          }
        },
        "open": {
          "description": "Dispatching messages. Queued sends were flushed on entry.",
          "type": "parallel",
          "entry": [
            "markOpened",
            "announceOpen"
          ],
          "after": {
            "stableAfter": {
              "actions": "resetAttempts",
              "description": "Stable long enough: attempts reset to 0."
            }
          },
          "states": {
            "heartbeat": {
              "description": "Ping every intervalMs; a pong (or any inbound frame) within timeoutMs keeps the session.",
              "initial": "choosing",
              "states": {
                "choosing": {
                  "always": [
                    {
                      "guard": "isHeartbeatEnabled",
                      "target": "waiting"
                    },
                    {
                      "target": "disabled"
                    }
                  ]
                },
                "disabled": {
                  "description": "No heartbeat (disabled, or the adapter cannot ping)."
                },
                "suspended": {
                  "description": "Reading is paused for backpressure: pongs cannot be read, so deadlines are suspended (the peer is not at fault).",
                  "on": {
                    "inbound.resumed": {
                      "target": "waiting",
                      "actions": "resetMissedPongs"
                    }
                  }
                },
                "waiting": {
                  "description": "Waiting for the next ping time.",
                  "after": {
                    "pingInterval": {
                      "target": "awaitingPong"
                    }
                  },
                  "on": {
                    "inbound.paused": {
                      "target": "suspended"
                    },
                    "heartbeat.probe": {
                      "target": "awaitingPong",
                      "description": "Probe now (e.g. a tab became visible): learn within timeoutMs if the socket is dead."
                    }
                  }
                },
                "awaitingPong": {
                  "description": "A ping is out; any inbound frame or pong answers it.",
                  "entry": [
                    "sendPing",
                    "announcePing"
                  ],
                  "on": {
                    "inbound.paused": {
                      "target": "suspended"
                    },
                    "heartbeat.pong": {
                      "guard": "isCurrentSession",
                      "target": "waiting",
                      "actions": "resetMissedPongs"
                    },
                    "heartbeat.missed": {
                      "guard": "isCurrentSession",
                      "target": "#connection.session.closing",
                      "actions": [
                        "declareHeartbeatDead",
                        "announceHeartbeatDead",
                        "reportLastError"
                      ]
                    }
                  },
                  "after": {
                    "pongTimeout": [
                      {
                        "guard": "hasMissedTooManyPongs",
                        "target": "#connection.session.closing",
                        "actions": [
                          "declareHeartbeatDead",
                          "announceHeartbeatDead",
                          "reportLastError"
                        ],
                        "description": "maxMissed consecutive pings unanswered: the peer is dead; terminate."
                      },
                      {
                        "target": "waiting",
                        "actions": "countMissedPong"
                      }
                    ]
                  }
                }
              }
            },
            "flow": {
              "description": "Normal dispatch, or paused while an exclusive(fn) section reads the stream directly.",
              "initial": "flowing",
              "states": {
                "flowing": {
                  "description": "Messages go to onMessage handlers and messages() iterators.",
                  "on": {
                    "flow.pause": {
                      "target": "paused"
                    }
                  }
                },
                "paused": {
                  "description": "An exclusive section owns the stream (replies and pongs are still matched first); unread messages are dispatched in order when it ends.",
                  "on": {
                    "flow.resume": {
                      "target": "flowing"
                    }
                  }
                }
              }
            }
          }
        },
        "closing": {
          "description": "Every way a session ends passes here: onClose runs once, the chosen close frame is sent, then the close handshake is awaited at most closeTimeoutMs before the socket is terminated.",
          "entry": "announceEnding",
          "exit": "xstate.cancel",
          "on": {
            "socket.closed": {
              "guard": "isCurrentSession",
              "actions": "recordSocketClosed"
            },
            "client.stop": {
              "actions": [
                "upgradeToStop",
                "armStopDeadline"
              ]
            },
            "stop.timedOut": {
              "guard": "isStopRequested",
              "target": "#connection.ended",
              "description": "A stop() that arrived during closing is bounded by its own deadline."
            },
            "client.exit": {
              "actions": "upgradeToExit"
            },
            "client.restart": {}
          },
          "after": {
            "stopTimeout": {
              "guard": "isStopRequested",
              "target": "#connection.ended",
              "description": "stop() is bounded by stopTimeoutMs whatever the hooks and the peer do."
            }
          },
          "initial": "choosing",
          "states": {
            "choosing": {
              "description": "onClose runs only for sessions whose socket opened; a failed dial skips it.",
              "always": [
                {
                  "guard": "socketWasOpen",
                  "target": "hook"
                },
                {
                  "target": "handshake",
                  "actions": "pickCloseFrame"
                }
              ]
            },
            "hook": {
              "description": "The onClose hook runs once; it may pick the close frame. Bounded by closeTimeoutMs.",
              "invoke": {
                "id": "closeHook",
                "src": "closeHook",
                "onDone": {
                  "target": "handshake",
                  "actions": "pickCloseFrame"
                },
                "onError": {
                  "target": "handshake",
                  "actions": "pickCloseFrame"
                }
              },
              "after": {
                "closeTimeout": {
                  "target": "handshake",
                  "actions": "pickCloseFrame"
                }
              }
            },
            "handshake": {
              "description": "The close frame is out; waiting for the peer to close, at most closeTimeoutMs.",
              "always": {
                "guard": "not",
                "target": "done"
              },
              "entry": "sendCloseFrame",
              "on": {
                "socket.closed": {
                  "guard": "isCurrentSession",
                  "target": "done",
                  "actions": "recordSocketClosed"
                }
              },
              "after": {
                "closeTimeout": {
                  "target": "done",
                  "actions": "recordCloseTimeout"
                }
              }
            },
            "done": {
              "type": "final"
            }
          },
          "onDone": {
            "target": "#connection.ended"
          }
        }
      }
    },
    "ended": {
      "description": "Decides what follows a session (transient: never observed as a client state).",
      "always": [
        {
          "guard": "isStopRequested",
          "target": "stopped"
        },
        {
          "guard": "isExitRequested",
          "target": "stopped"
        },
        {
          "guard": "isRestartRequested",
          "target": "reconnecting"
        },
        {
          "guard": "isFirstStart",
          "target": "stopped"
        },
        {
          "guard": "canReconnect",
          "target": "reconnecting"
        },
        {
          "target": "stopped"
        }
      ]
    },
    "reconnecting": {
      "description": "Waiting the backoff delay (full jitter, Retry-After aware) before the next attempt.",
      "entry": [
        "scheduleReconnect",
        "announceReconnect"
      ],
      "on": {
        "client.stop": {
          "target": "stopped",
          "actions": "requestStop"
        },
        "client.exit": {
          "target": "stopped",
          "actions": "requestExit"
        },
        "client.restart": {
          "target": "session",
          "actions": "markRestarting"
        }
      },
      "initial": "choosing",
      "states": {
        "choosing": {
          "always": [
            {
              "guard": "isOffline",
              "target": "offline"
            },
            {
              "target": "backoff"
            }
          ]
        },
        "backoff": {
          "description": "The delay runs; going offline pauses attempts.",
          "after": {
            "reconnectDelay": {
              "target": "#connection.session",
              "actions": "markRestarting"
            }
          },
          "on": {
            "env.offline": {
              "target": "offline",
              "actions": "xstate.assign"
            }
          }
        },
        "offline": {
          "description": "The device is offline: no attempts (they would fail) until it is back online.",
          "on": {
            "env.online": {
              "target": "#connection.session",
              "actions": [
                "markRestarting",
                "xstate.assign"
              ],
              "description": "Back online: attempt at once."
            }
          }
        }
      }
    },
    "stopped": {
      "description": "Nothing open, no timers. start() may start again.",
      "entry": "announceStopped",
      "on": {
        "client.start": {
          "target": "session",
          "actions": "beginStart"
        }
      }
    }
  }
});
