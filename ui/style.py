"""How the app looks: the page's CSS and the icons its notices use."""

from __future__ import annotations

ICON_DOWN = ":material/cloud_off:"
ICON_EMPTY = ":material/inbox:"
ICON_PROBLEM = ":material/warning:"
ICON_ABSTAIN = ":material/explore:"

CSS = """
<style>
:root { --pka-mark-bg: #fff1a8; --pka-mark-fg: #1a1a1a; --pka-link: #0b5cad; }
.pka-cite { color: var(--pka-link); font-weight: 600; text-decoration: underline; padding: 0 1px; }
.pka-cite:focus-visible, .stApp a:focus-visible, .stApp button:focus-visible {
  outline: 3px solid #ffbf47; outline-offset: 2px; }
mark.pka-quote { background: var(--pka-mark-bg); color: var(--pka-mark-fg); padding: 0 2px; border-radius: 2px;
  box-shadow: inset 0 -2px 0 #b58900; }
abbr[title] { text-decoration: underline dotted; cursor: help; }
.pka-passage, .pka-document { line-height: 1.55; overflow-wrap: anywhere; }
.pka-passage { border-left: 4px solid #8a9bb0; padding: 0.4rem 0.8rem; background: rgba(127,127,127,0.06); }
.pka-meta { color: inherit; opacity: 0.85; font-size: 0.9rem; }
.pka-cite-head { margin: 0.2rem 0 0 0; font-size: 0.95rem; cursor: pointer; }
details.pka-source { margin: 0.3rem 0; }
details.pka-source .pka-passage { margin-top: 0.3rem; scroll-margin-top: 5rem; }
.pka-urgent { border: 2px solid #b10e1e; border-left-width: 8px; background: #fdecea; color: #1a1a1a;
  padding: 0.6rem 1rem; border-radius: 4px; margin-bottom: 0.8rem; }
.pka-urgent ul { margin: 0.2rem 0 0.4rem 1.2rem; }
.pka-urgent p { margin: 0.2rem 0; }
.pka-urgent-head { font-size: 1.05rem; color: #8a0b17; }
.pka-step-done { opacity: 0.75; }
@media (max-width: 640px) { .pka-passage { padding: 0.3rem 0.5rem; } }
</style>
"""
