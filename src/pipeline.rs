//! capture → decode → track, the same loop for live capture and replay.
