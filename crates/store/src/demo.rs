//! Demo province (in progress).
