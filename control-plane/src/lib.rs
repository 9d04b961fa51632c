//! The control plane's REST service. Built by the control-plane issues.
