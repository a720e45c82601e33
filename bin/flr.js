#!/usr/bin/env node
import { main } from '../dist/lib/cli/process.js'
main(process.argv.slice(2))
