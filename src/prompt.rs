//! Questions to the user, behind one seam: a picker on a terminal, the default
//! (said out loud) otherwise. Nothing here ever waits without a terminal.

use std::io::IsTerminal;

use anyhow::{Context, Result};
use clap::ValueEnum;

use crate::layout::Layout;

/// The layout to use and, when it was not chosen by the user, a note saying so.
pub fn choose_layout(given: Option<Layout>, no_input: bool) -> Result<(Layout, Option<String>)> {
    if let Some(layout) = given {
        return Ok((layout, None));
    }
    let interactive =
        !no_input && std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
    if !interactive {
        let note = format!(
            "using the default layout `{}` (pass --layout log-centric|web-stack to choose)",
            Layout::DEFAULT
        );
        return Ok((Layout::DEFAULT, Some(note)));
    }
    let layouts = Layout::value_variants();
    let items: Vec<String> = layouts
        .iter()
        .map(|l| {
            let help = l
                .to_possible_value()
                .and_then(|v| v.get_help().map(ToString::to_string));
            format!("{l}: {}", help.unwrap_or_default())
        })
        .collect();
    let picked = dialoguer::Select::new()
        .with_prompt("Project layout")
        .items(&items)
        .default(0)
        .interact()
        .context("cannot read the layout choice (pass --layout instead)")?;
    Ok((layouts[picked], None))
}
