"""Built-in action types. Importing this package registers each of them."""

from engine.actions import (  # noqa: F401
    add_note,
    add_tag,
    assign_user,
    end,
    goto,
    if_else,
    manual_call,
    manual_sms,
    remove_tag,
    send_sms,
    update_contact_field,
    wait,
    wait_for_reply,
)
