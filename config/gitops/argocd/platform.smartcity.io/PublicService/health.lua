-- Argo CD health of a PublicService (platform.smartcity.io/v1alpha1), from its conditions:
--   Progressing  until the operator has observed the current generation and written Ready;
--                while pods start (Available=False, DeploymentProgressing) or Ready is Unknown
--   Degraded     Available, NetworkIsolated or DependenciesSatisfied is False for any other
--                reason (PodsFailing, NameConflict, ApplyFailed, ConsentMissing, ...), or
--                ConnectivityVerified is False for the current generation
--   Healthy      Ready is True
-- The message is the deciding condition's. config/gitops/gitops_test.go runs it on sample statuses.
local hs = { status = "Progressing", message = "Waiting for the operator to reconcile the service" }
if obj.status == nil then
  return hs
end
local generation = obj.metadata.generation
local observed = obj.status.observedGeneration
if generation ~= nil and (observed == nil or observed < generation) then
  hs.message = "Waiting for the operator to observe generation " .. generation
  return hs
end

local conditions = {}
for _, c in ipairs(obj.status.conditions or {}) do
  conditions[c.type] = c
end
local function describe(c)
  if c.message ~= nil and c.message ~= "" then
    return c.type .. ": " .. c.message
  end
  return c.type .. ": " .. c.reason
end

for _, t in ipairs({ "Available", "NetworkIsolated", "DependenciesSatisfied" }) do
  local c = conditions[t]
  if c ~= nil and c.status == "False" and c.reason ~= "DeploymentProgressing" then
    hs.status = "Degraded"
    hs.message = describe(c)
    return hs
  end
end

local verified = conditions["ConnectivityVerified"]
if verified ~= nil and verified.status == "False"
    and (verified.observedGeneration == nil or verified.observedGeneration == generation) then
  hs.status = "Degraded"
  hs.message = describe(verified)
  return hs
end

local ready = conditions["Ready"]
if ready == nil then
  hs.message = "Waiting for the Ready condition"
  return hs
end
if ready.status == "True" then
  hs.status = "Healthy"
end
hs.message = describe(ready)
return hs
