"""Live events over Socket.IO: the emitter, one publisher module per area, and the Socket.IO handlers."""
