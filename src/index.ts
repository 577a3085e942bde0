// Entry point for both steps of the action (action.yml: main and post run this same bundle).
import * as core from '@actions/core';
import { main } from './main.js';
import { post } from './post.js';
import { isPost, markPost } from './run/state.js';

if (isPost()) {
  await post();
} else {
  markPost();
  await main();
}
core.debug('go-docker-publish: done');
