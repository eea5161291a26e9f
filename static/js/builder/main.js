// The builder page's entry point (Automation > Workflows > a workflow): reads the page config and starts
// one builder. Everything else lives in the modules beside this one; editor.js owns the state.

import { pageConfig } from "../dom.js";
import { createBuilder } from "./editor.js";

createBuilder(pageConfig()).start();
