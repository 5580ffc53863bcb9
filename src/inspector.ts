/**
 * `wsmachine/inspector` (Node): the live, offline statechart inspector.
 */
export {
  createInspector,
  activeStateIds,
  type Inspector,
  type InspectorOptions,
  type InspectableClient,
} from './inspector/server.js';
