// The `connection` machine for Stately's editor: Import (Code panel, or Machine > Import) and paste
// this file. Generated from machines/connection.machine.ts by `npm run visualize`; do not edit.
createMachine({
  "id": "connection",
  "description": "The lifecycle of one wsmachine client.",
  "on": {
    "subscription.add": [
      {
        "guard": "isOpen",
        "actions": [
          "addSubscriptions",
          "openNewSubscriptions"
        ],
        "description": "client.subscribe() while open: the new subscriptions subscribe at once, in order."
      },
      {
        "actions": "addSubscriptions",
        "description": "client.subscribe() while not open: the subscriptions wait for the next open."
      }
    ],
    "subscription.remove": {
      "actions": "removeSubscriptions",
      "description": "Subscriptions reached `unsubscribed`: their child actors are stopped and forgotten."
    },
    "env.offline": {
      "actions": "xstate.assign"
    },
    "env.online": {
      "actions": "xstate.assign"
    },
    "env.visible": {
      "actions": "xstate.raise"
    },
    "inbound.paused": {
      "actions": "xstate.assign"
    },
    "inbound.resumed": {
      "actions": "xstate.assign"
    }
  },
  "initial": "idle",
  "states": {
    "idle": {
      "description": "Created; nothing is open and no timer runs. start() begins the first session.",
      "on": {
        "client.start": {
          "target": "session",
          "actions": [
            "beginStart",
            "announceStartAccepted",
            "startEnvironment"
          ]
        },
        "client.stop": {
          "actions": [
            "stopSubscriptions",
            "acknowledgeStop"
          ]
        }
      }
    },
    "session": {
      "description": "One connection attempt and, if it opens, its life. Owns the one socket actor: leaving this state by any path terminates the socket.",
      "entry": "beginSession",
      "exit": [
        "finalizeSession",
        "endSubscriptions",
        "announceClosed",
        "xstate.cancel"
      ],
      "invoke": {
        "id": "socket",
        "src": "socket",
        "onError": [
          {
            "guard": "isNotBound",
            "actions": "failUnbound"
          },
          {
            "target": ".closing",
            "actions": [
              "recordSocketFailure",
              "reportEndError"
            ]
          }
        ]
      },
      "on": {
        "client.start": {
          "actions": "refuseStart"
        },
        "client.stop": {
          "target": ".closing",
          "actions": [
            "requestStop",
            "armStopDeadline"
          ]
        },
        "client.restart": {
          "guard": "isForThisSession",
          "target": ".closing",
          "actions": "requestRestart"
        },
        "client.exit": {
          "guard": "isForThisSession",
          "target": ".closing",
          "actions": "requestExit"
        },
        "socket.closed": {
          "guard": "isCurrentSession",
          "target": ".closing",
          "actions": [
            "recordSocketClosed",
            "reportEndError"
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
                "reportEndError"
              ]
            }
          },
          "initial": "connecting",
          "states": {
            "connecting": {
              "description": "Resolving the URL and headers for this attempt, then dialing and the HTTP upgrade.",
              "initial": "choosing",
              "states": {
                "choosing": {
                  "always": [
                    {
                      "guard": "hasStaticTarget",
                      "target": "dialing"
                    },
                    {
                      "target": "resolving"
                    }
                  ]
                },
                "resolving": {
                  "description": "The url and headers functions run for this attempt (they may be async; aborted with the attempt).",
                  "invoke": {
                    "id": "target",
                    "src": "target",
                    "onDone": {
                      "target": "dialing"
                    },
                    "onError": [
                      {
                        "guard": "isNotBound",
                        "actions": "failUnbound"
                      },
                      {
                        "target": "#connection.session.closing",
                        "actions": [
                          "recordTargetFailure",
                          "reportEndError"
                        ]
                      }
                    ]
                  }
                },
                "dialing": {
                  "description": "The socket dials the resolved target: TCP, TLS and the HTTP upgrade.",
                  "entry": [
                    "announceDialing",
                    "dial"
                  ],
                  "on": {
                    "socket.opened": {
                      "guard": "isCurrentSession",
                      "target": "#connection.session.establishing.opening",
                      "actions": "recordSocketOpened"
                    }
                  }
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
                    "recordOpenHookFailure",
                    "reportOpenHookError"
                  ]
                }
              }
            }
          }
        },
        "open": {
          "description": "Dispatching messages. On entry the subscriptions subscribe (in creation order), then the socket sends what was queued and lets writes through.",
          "type": "parallel",
          "entry": [
            "markOpened",
            "openSubscriptions",
            "flushWrites",
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
              "description": "Ping every intervalMs; anything heard from the peer within timeoutMs (a pong, a frame, bytes of a frame) keeps the session.",
              "initial": "choosing",
              "states": {
                "choosing": {
                  "always": [
                    {
                      "guard": "not",
                      "target": "disabled"
                    },
                    {
                      "guard": "isReadingPaused",
                      "target": "suspended"
                    },
                    {
                      "target": "waiting"
                    }
                  ]
                },
                "disabled": {
                  "description": "No heartbeat (disabled, or the adapter cannot ping)."
                },
                "suspended": {
                  "description": "Reading is paused for backpressure: pongs cannot be read, so deadlines are suspended (the peer is not at fault).",
                  "always": {
                    "guard": "not",
                    "target": "waiting",
                    "actions": "resetMissedPongs"
                  }
                },
                "waiting": {
                  "description": "Waiting for the next ping time.",
                  "always": {
                    "guard": "isReadingPaused",
                    "target": "suspended"
                  },
                  "after": {
                    "pingInterval": {
                      "target": "awaitingPong"
                    }
                  },
                  "on": {
                    "heartbeat.probe": {
                      "target": "awaitingPong",
                      "description": "Probe now (a tab became visible): learn within timeoutMs if the socket is dead."
                    }
                  }
                },
                "awaitingPong": {
                  "description": "A ping is out; anything heard from the peer answers it. (Reading pauses only when something arrives, and that answers the ping first.)",
                  "entry": [
                    "sendPing",
                    "announcePing"
                  ],
                  "on": {
                    "socket.heard": {
                      "guard": "isCurrentSession",
                      "target": "waiting",
                      "actions": "resetMissedPongs"
                    }
                  },
                  "after": {
                    "pongTimeout": {
                      "target": "judging"
                    }
                  }
                },
                "judging": {
                  "description": "The deadline passed: the socket reads the input already waiting (a stalled event loop is not a dead peer), then says whether anything arrived since the ping.",
                  "entry": "askVerdict",
                  "on": {
                    "socket.heard": {
                      "guard": "isCurrentSession",
                      "target": "waiting",
                      "actions": "resetMissedPongs"
                    },
                    "socket.silent": [
                      {
                        "guard": "and",
                        "target": "#connection.session.closing",
                        "actions": [
                          "declareHeartbeatDead",
                          "announceHeartbeatDead",
                          "reportEndError"
                        ],
                        "description": "maxMissed consecutive pings unanswered: the peer is dead; terminate."
                      },
                      {
                        "guard": "isCurrentSession",
                        "target": "waiting",
                        "actions": "countMissedPong"
                      }
                    ]
                  }
                }
              }
            }
          }
        },
        "closing": {
          "description": "Every way a session ends passes here: new sends queue for the next session, onClose runs once, the chosen close frame is sent, then the close handshake is awaited at most closeTimeoutMs before the socket is terminated.",
          "entry": [
            "sealWrites",
            "announceEnding"
          ],
          "on": {
            "socket.closed": {
              "guard": "isCurrentSession",
              "actions": "recordSocketClosed"
            },
            "client.stop": {
              "actions": [
                "upgradeToStop",
                "armStopDeadline",
                "sealWrites"
              ]
            },
            "stop.timedOut": {
              "guard": "isStopRequested",
              "target": "#connection.ended",
              "description": "stop() is bounded by its deadline whatever the hooks and the peer do."
            },
            "client.exit": {
              "guard": "isForThisSession",
              "actions": [
                "upgradeToExit",
                "sealWrites"
              ]
            },
            "client.restart": {}
          },
          "initial": "choosing",
          "states": {
            "choosing": {
              "description": "onClose runs only for sessions whose socket opened; a failed dial skips it.",
              "always": [
                {
                  "guard": "reachedSocket",
                  "target": "hook"
                },
                {
                  "target": "handshake"
                }
              ]
            },
            "hook": {
              "description": "The onClose hook runs once; it may pick the close frame. Bounded by closeTimeoutMs.",
              "invoke": {
                "id": "closeHook",
                "src": "closeHook",
                "onDone": {
                  "target": "handshake"
                },
                "onError": {
                  "target": "handshake",
                  "actions": "reportCloseHookError",
                  "description": "onClose threw or picked an unsendable frame: reported; the default frame goes out."
                }
              },
              "after": {
                "closeTimeout": {
                  "target": "handshake"
                }
              }
            },
            "handshake": {
              "description": "The close frame (stop()'s code, else onClose's, else 1000 to stop and 1001 to reconnect) is out; waiting for the peer to close, at most closeTimeoutMs. A dead or closed socket is not waited for.",
              "entry": [
                "pickCloseFrame",
                "sendCloseFrame"
              ],
              "always": {
                "guard": "not",
                "target": "done"
              },
              "on": {
                "socket.closed": {
                  "guard": "isCurrentSession",
                  "target": "done",
                  "actions": "recordSocketClosed"
                }
              },
              "after": {
                "closeTimeout": {
                  "target": "done"
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
          "target": "stopped",
          "actions": {
            "type": "announceStopped",
            "params": {
              "because": "requested"
            }
          }
        },
        {
          "guard": "isExitRequested",
          "target": "stopped",
          "actions": {
            "type": "announceStopped",
            "params": {
              "because": "requested"
            }
          }
        },
        {
          "guard": "isRestartRequested",
          "target": "deciding"
        },
        {
          "guard": "isFirstStart",
          "target": "stopped",
          "actions": {
            "type": "announceStopped",
            "params": {
              "because": "firstStart"
            }
          }
        },
        {
          "target": "deciding"
        }
      ]
    },
    "deciding": {
      "description": "The reconnect policy (close class, attempts left, the user's shouldReconnect, backoff with jitter) answers within the same step (transient).",
      "entry": "consultPolicy",
      "on": {
        "policy.decided": [
          {
            "guard": "canReconnect",
            "target": "reconnecting",
            "actions": [
              "reportPolicyError",
              "scheduleReconnect"
            ]
          },
          {
            "target": "stopped",
            "actions": [
              "reportPolicyError",
              {
                "type": "announceStopped",
                "params": {
                  "because": "policy"
                }
              }
            ]
          }
        ]
      }
    },
    "reconnecting": {
      "description": "Waiting the backoff delay (full jitter, Retry-After aware) before the next attempt.",
      "entry": "announceReconnect",
      "on": {
        "client.start": {
          "actions": "refuseStart"
        },
        "client.stop": {
          "target": "stopped",
          "actions": [
            "requestStop",
            {
              "type": "announceStopped",
              "params": {
                "because": "requested"
              }
            }
          ]
        },
        "client.exit": {
          "guard": "isFromClient",
          "target": "stopped",
          "actions": [
            "requestExit",
            {
              "type": "announceStopped",
              "params": {
                "because": "requested"
              }
            }
          ]
        },
        "client.restart": {
          "guard": "isFromClient",
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
          "always": {
            "guard": "isOffline",
            "target": "offline"
          },
          "after": {
            "reconnectDelay": {
              "target": "#connection.session",
              "actions": "markRestarting"
            }
          },
          "on": {
            "env.visible": {
              "target": "#connection.session",
              "actions": "markRestarting",
              "description": "The tab became visible: attempt at once (someone is looking; the policy already allowed this attempt)."
            }
          }
        },
        "offline": {
          "description": "The device is offline: no attempts (they would fail) until it is back online.",
          "always": {
            "guard": "not",
            "target": "#connection.session",
            "actions": "markRestarting",
            "description": "Back online: attempt at once."
          }
        }
      }
    },
    "stopped": {
      "description": "Nothing open, no timers, no subscription (they end with the client). start() may start again.",
      "entry": [
        "stopEnvironment",
        "stopSubscriptions"
      ],
      "on": {
        "client.start": {
          "target": "session",
          "actions": [
            "beginStart",
            "announceStartAccepted",
            "startEnvironment"
          ]
        },
        "client.stop": {
          "actions": [
            "stopSubscriptions",
            "acknowledgeStop"
          ]
        }
      }
    }
  }
});
