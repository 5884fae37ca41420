// Every mistake a user can make in a Dockerfile fails with a DockerfileError naming the right line,
// a stable code and a message that says what is wrong.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseDockerfile } from '../../frontend/dockerfile.js';
import { DockerfileError, DockerfileErrorCode as C, type DockerfileErrorCodeValue } from '../../frontend/errors.js';

interface Case {
  name: string;
  text: string;
  line: number;
  code: DockerfileErrorCodeValue;
  message: string | RegExp;
}

const cases: Case[] = [
  // file level
  { name: 'empty file', text: '', line: 0, code: C.empty, message: 'Dockerfile: the Dockerfile is empty' },
  { name: 'only comments and blanks', text: '# just a comment\n\n   \n', line: 0, code: C.empty, message: 'the Dockerfile is empty' },
  { name: 'only global ARGs', text: 'ARG A=1\nARG B\n', line: 1, code: C.stage, message: 'no FROM instruction' },
  { name: 'instruction before FROM', text: 'ARG A\n# c\nRUN echo\nFROM alpine\n', line: 3, code: C.stage, message: 'RUN comes before any FROM' },
  { name: 'COPY before FROM', text: '\nCOPY a b\n', line: 2, code: C.stage, message: 'only ARG may precede the first FROM' },
  // directives
  { name: 'duplicate directive', text: '# syntax=a\n# SYNTAX=b\nFROM x\n', line: 2, code: C.directive, message: 'only one "syntax" parser directive' },
  { name: 'duplicate escape', text: '# escape=`\n# escape=\\\nFROM x\n', line: 2, code: C.directive, message: 'only one "escape"' },
  { name: 'bad escape character', text: '# escape=x\nFROM x\n', line: 1, code: C.directive, message: 'invalid escape character "x"' },
  // instruction names
  { name: 'unknown instruction with suggestion', text: 'FROM a\nRUN x\n\nCOPPY a b\n', line: 4, code: C.unknownInstruction,
    message: 'Dockerfile:4: unknown instruction: COPPY (did you mean COPY?)' },
  { name: 'swapped letters', text: 'FORM alpine\n', line: 1, code: C.unknownInstruction, message: 'unknown instruction: FORM (did you mean FROM?)' },
  { name: 'unknown instruction without suggestion', text: 'FROM a\nFROBNICATE x\n', line: 2, code: C.unknownInstruction,
    message: /unknown instruction: FROBNICATE$/ },
  { name: 'continuation of a JSON array left unjoined', text: 'FROM a\nCMD ["a",\n "b"]\n', line: 3, code: C.unknownInstruction, message: 'unknown instruction: "b"]' },
  // flags
  { name: 'unknown flag', text: 'FROM a\n\nCOPY --foo=1 a b\n', line: 3, code: C.flag, message: 'Dockerfile:3: unknown flag --foo for COPY' },
  { name: 'unknown flag suggestion', text: 'FROM a\nCOPY --form=x a b\n', line: 2, code: C.flag, message: 'unknown flag --form for COPY (did you mean --from?)' },
  { name: 'ADD has no --from', text: 'FROM a\nADD --from=b a b\n', line: 2, code: C.flag, message: 'unknown flag --from for ADD' },
  { name: 'ADD has no --parents', text: 'FROM a\nADD --parents a b\n', line: 2, code: C.flag, message: 'unknown flag --parents for ADD' },
  { name: 'flag on a flagless instruction', text: 'FROM a\nENV --x=1 A=b\n', line: 2, code: C.flag, message: 'ENV takes no flags' },
  { name: 'CMD shell form starting with --', text: 'FROM a\nCMD --help\n', line: 2, code: C.flag, message: 'unknown flag --help for CMD' },
  { name: 'duplicate flag', text: 'FROM a\nCOPY --from=a --from=b x y\n', line: 2, code: C.flag, message: 'flag --from is given twice for COPY' },
  { name: 'duplicate bool flag', text: 'FROM a\nCOPY --link --link=false x y\n', line: 2, code: C.flag, message: 'flag --link is given twice' },
  { name: 'bool flag with a non-bool', text: 'FROM a\nCOPY --link=yes x y\n', line: 2, code: C.flag, message: 'expects true or false, not "yes"' },
  { name: 'bool flag with empty value', text: 'FROM a\nCOPY --link= x y\n', line: 2, code: C.flag, message: 'flag --link for COPY has an empty value' },
  { name: 'string flag without value', text: 'FROM a\nCOPY --from x y\n', line: 2, code: C.flag, message: 'flag --from for COPY needs a value' },
  { name: 'FROM --platform without value', text: 'FROM --platform alpine\n', line: 1, code: C.flag, message: 'flag --platform for FROM needs a value' },
  { name: 'bad network', text: 'FROM a\nRUN --network=foo true\n', line: 2, code: C.flag, message: 'unsupported network mode "foo"' },
  { name: 'bad security', text: 'FROM a\nRUN --security=root true\n', line: 2, code: C.flag, message: 'unsupported security mode "root"' },
  { name: 'duplicate network', text: 'FROM a\nRUN --network=none --network=host true\n', line: 2, code: C.flag, message: 'flag --network is given twice' },
  // mounts checked at parse time
  { name: 'bad mount key', text: 'FROM a\nRUN --mount=type=cache,target=/x,colour=red true\n', line: 2, code: C.mount, message: 'unknown key "colour"' },
  { name: 'bad mount sharing', text: 'FROM a\nRUN --mount=type=cache,target=/x,sharing=all true\n', line: 2, code: C.mount, message: 'unsupported sharing value "all"' },
  { name: 'bad mount type', text: 'FROM a\nRUN --mount=type=volume,target=/x true\n', line: 2, code: C.mount, message: 'unsupported mount type "volume"' },
  { name: 'mount error on a continued line', text: 'FROM a\nRUN \\\n  --mount=type=bind,mode=0755 true\n', line: 2, code: C.mount, message: 'mode is not allowed for type=bind' },
  // arguments
  { name: 'COPY with one argument', text: 'FROM a\nCOPY onlyone\n', line: 2, code: C.args, message: 'COPY requires at least two arguments' },
  { name: 'ADD with no argument', text: 'FROM a\nADD\n', line: 2, code: C.args, message: 'ADD requires at least two arguments' },
  { name: 'COPY JSON with one element', text: 'FROM a\nCOPY ["a"]\n', line: 2, code: C.args, message: 'COPY requires at least two arguments' },
  { name: 'COPY heredoc as destination', text: 'FROM a\nCOPY a <<EOF\nx\nEOF\n', line: 2, code: C.heredoc, message: 'cannot take a heredoc as its destination' },
  { name: 'JSON array of non-strings', text: 'FROM a\nCMD ["a", 1]\n', line: 2, code: C.args, message: 'array of strings only' },
  { name: 'ENV with no value', text: 'FROM a\nENV\n', line: 2, code: C.args, message: 'ENV requires at least one argument' },
  { name: 'ENV legacy with one word', text: 'FROM a\nENV onlykey\n', line: 2, code: C.args, message: 'ENV must have two arguments' },
  { name: 'ENV blank name', text: 'FROM a\nENV =x\n', line: 2, code: C.args, message: 'ENV names can not be blank' },
  { name: 'LABEL without = in multi form', text: 'FROM a\nLABEL a=1 b\n', line: 2, code: C.args, message: 'LABEL has no "=" in "b"' },
  { name: 'LABEL with nothing', text: 'FROM a\nLABEL\n', line: 2, code: C.args, message: 'LABEL requires at least one argument' },
  { name: 'EXPOSE with nothing', text: 'FROM a\nEXPOSE\n', line: 2, code: C.args, message: 'EXPOSE requires at least one argument' },
  { name: 'SHELL not JSON', text: 'FROM a\nSHELL /bin/bash -c\n', line: 2, code: C.args, message: 'SHELL requires the arguments in JSON form' },
  { name: 'SHELL empty array', text: 'FROM a\nSHELL []\n', line: 2, code: C.args, message: 'SHELL requires at least one argument' },
  { name: 'USER empty', text: 'FROM a\nUSER\n', line: 2, code: C.args, message: 'USER requires exactly one argument' },
  { name: 'WORKDIR empty', text: 'FROM a\nWORKDIR   \n', line: 2, code: C.args, message: 'WORKDIR requires exactly one argument' },
  { name: 'STOPSIGNAL empty', text: 'FROM a\nSTOPSIGNAL\n', line: 2, code: C.args, message: 'STOPSIGNAL requires exactly one argument' },
  { name: 'MAINTAINER empty', text: 'FROM a\nMAINTAINER\n', line: 2, code: C.args, message: 'MAINTAINER requires exactly one argument' },
  { name: 'VOLUME empty', text: 'FROM a\nVOLUME\n', line: 2, code: C.args, message: 'VOLUME requires at least one argument' },
  { name: 'VOLUME empty string', text: 'FROM a\nVOLUME ["/a", " "]\n', line: 2, code: C.args, message: 'VOLUME paths can not be empty' },
  { name: 'ARG empty', text: 'FROM a\nARG\n', line: 2, code: C.args, message: 'ARG requires at least one argument' },
  { name: 'ARG blank name', text: 'FROM a\nARG =1\n', line: 2, code: C.args, message: 'ARG names can not be blank' },
  { name: 'FROM with two words', text: 'FROM alpine builder\n', line: 1, code: C.args, message: 'FROM requires either one or three arguments' },
  { name: 'FROM empty', text: 'FROM\n', line: 1, code: C.args, message: 'FROM requires either one or three arguments' },
  // ONBUILD
  { name: 'ONBUILD ONBUILD', text: 'FROM a\nONBUILD ONBUILD RUN x\n', line: 2, code: C.args, message: 'ONBUILD ONBUILD' },
  { name: 'ONBUILD FROM', text: 'FROM a\nONBUILD from b\n', line: 2, code: C.args, message: 'FROM is not allowed as an ONBUILD trigger' },
  { name: 'ONBUILD MAINTAINER', text: 'FROM a\nONBUILD MAINTAINER me\n', line: 2, code: C.args, message: 'MAINTAINER is not allowed as an ONBUILD trigger' },
  { name: 'ONBUILD empty', text: 'FROM a\nONBUILD\n', line: 2, code: C.args, message: 'ONBUILD requires at least one argument' },
  { name: 'ONBUILD bad trigger', text: 'FROM a\nONBUILD COPPY a b\n', line: 2, code: C.unknownInstruction, message: 'unknown instruction: COPPY' },
  { name: 'ONBUILD trigger with bad flag', text: 'FROM a\nONBUILD COPY --nope a b\n', line: 2, code: C.flag, message: 'unknown flag --nope for COPY' },
  // HEALTHCHECK
  { name: 'HEALTHCHECK empty', text: 'FROM a\nHEALTHCHECK\n', line: 2, code: C.args, message: 'HEALTHCHECK requires at least one argument' },
  { name: 'HEALTHCHECK bad type', text: 'FROM a\nHEALTHCHECK RUN true\n', line: 2, code: C.args, message: 'unknown type "RUN" in HEALTHCHECK' },
  { name: 'HEALTHCHECK NONE with args', text: 'FROM a\nHEALTHCHECK NONE x\n', line: 2, code: C.args, message: 'HEALTHCHECK NONE takes no arguments' },
  { name: 'HEALTHCHECK CMD without command', text: 'FROM a\nHEALTHCHECK CMD\n', line: 2, code: C.args, message: 'HEALTHCHECK CMD is missing its command' },
  { name: 'HEALTHCHECK CMD empty JSON', text: 'FROM a\nHEALTHCHECK CMD []\n', line: 2, code: C.args, message: 'missing its command' },
  { name: 'HEALTHCHECK bad option', text: 'FROM a\nHEALTHCHECK --every=5s CMD true\n', line: 2, code: C.flag, message: 'unknown flag --every for HEALTHCHECK' },
  { name: 'HEALTHCHECK bad duration', text: 'FROM a\nHEALTHCHECK --interval=5 CMD true\n', line: 2, code: C.flag, message: '--interval="5" is not a duration' },
  { name: 'HEALTHCHECK bad unit', text: 'FROM a\nHEALTHCHECK --timeout=5sec CMD true\n', line: 2, code: C.flag, message: '--timeout="5sec" is not a duration' },
  { name: 'HEALTHCHECK negative duration', text: 'FROM a\nHEALTHCHECK --start-period=-1s CMD true\n', line: 2, code: C.flag, message: 'must be at least 1ms' },
  { name: 'HEALTHCHECK too small duration', text: 'FROM a\nHEALTHCHECK --start-interval=999us CMD true\n', line: 2, code: C.flag, message: 'must be at least 1ms' },
  { name: 'HEALTHCHECK negative retries', text: 'FROM a\nHEALTHCHECK --retries=-1 CMD true\n', line: 2, code: C.flag, message: '--retries cannot be negative' },
  { name: 'HEALTHCHECK non-numeric retries', text: 'FROM a\nHEALTHCHECK --retries=three CMD true\n', line: 2, code: C.flag, message: '--retries="three" is not a whole number' },
  // heredocs
  { name: 'unterminated heredoc', text: 'FROM a\nRUN <<EOF\necho hi\n', line: 2, code: C.heredoc, message: /unterminated heredoc <<EOF \(opened on line 2\).*only EOF/ },
  { name: 'unterminated second heredoc', text: 'FROM a\n\nCOPY <<a <<b /d/\nx\na\ny\n', line: 3, code: C.heredoc, message: 'unterminated heredoc <<b' },
  { name: 'chomp terminator needs <<-', text: 'FROM a\nRUN <<EOF\n\tEOF\n', line: 2, code: C.heredoc, message: 'unterminated heredoc <<EOF' },
  { name: 'unterminated chomped heredoc', text: 'FROM a\nRUN <<-END\n', line: 2, code: C.heredoc, message: 'unterminated heredoc <<-END' },
  // stages
  { name: 'invalid stage name', text: 'FROM alpine AS 1st\n', line: 1, code: C.stage, message: 'invalid stage name "1st"' },
  { name: 'stage name with symbols', text: 'FROM a\nFROM b AS my/stage\n', line: 2, code: C.stage, message: 'invalid stage name "my/stage"' },
  { name: 'duplicate stage name', text: 'FROM a AS build\nRUN x\nFROM b AS Build\n', line: 3, code: C.stage, message: 'duplicate stage name "build" (first defined on line 1)' },
];

for (const c of cases) {
  test(`error: ${c.name}`, () => {
    assert.throws(() => parseDockerfile(c.text, 'Dockerfile'), (err: unknown) => {
      assert.ok(err instanceof DockerfileError, `expected a DockerfileError, got ${String(err)}`);
      assert.equal(err.line, c.line, `line of: ${err.message}`);
      assert.equal(err.code, c.code, `code of: ${err.message}`);
      assert.equal(err.file, 'Dockerfile');
      assert.equal(err.userFacing, true);
      if (typeof c.message === 'string') assert.ok(err.message.includes(c.message), `"${err.message}" should contain "${c.message}"`);
      else assert.match(err.message, c.message);
      assert.ok(err.message.startsWith(c.line > 0 ? `Dockerfile:${c.line}: ` : 'Dockerfile: '), err.message);
      return true;
    });
  });
}

test('errors name the file given to parseDockerfile', () => {
  assert.throws(() => parseDockerfile('FROM a\nRUNN x\n', 'build/Dockerfile.dev'), /^DockerfileError: build\/Dockerfile.dev:2: unknown instruction: RUNN \(did you mean RUN\?\)$/);
});
